using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Ingress;

/// <summary>
/// The HTTP door's authentication scheme: one key per ERP from configuration (<c>Bridge:Ingress:Clients</c>), sent as
/// <c>Authorization: Bearer …</c>. Keys are compared as SHA-256 hashes in fixed time, and a refused request is answered
/// without saying which part was wrong. A separate scheme from the operators' tokens: an ERP key opens no admin endpoint
/// and an operator token sends no message.
/// </summary>
public sealed class IngressKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    IOptionsMonitor<IngressOptions> ingressOptions,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "BridgeIngressKey";

    public const string Policy = "BridgeIngress";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var client = Authenticate(header["Bearer ".Length..].Trim(), ingressOptions.CurrentValue);
        if (client is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("The bearer key is not one of Bridge:Ingress:Clients."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, client)], SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer realm=\"bridge-ingress\"";
        return Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "An ERP key is required",
            detail: "Send a key configured in Bridge:Ingress:Clients as 'Authorization: Bearer <key>'.").ExecuteAsync(Context);
    }

    /// <summary>The name of the client whose key equals <paramref name="key"/>, compared in fixed time; null when none is.</summary>
    public static string? Authenticate(string key, IngressOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        string? name = null;
        foreach (var client in options.Clients)
        {
            // Every entry is compared, so the time taken does not depend on which one matched.
            if (CryptographicOperations.FixedTimeEquals(presented, SHA256.HashData(Encoding.UTF8.GetBytes(client.Key))) && client.Key.Length > 0)
            {
                name = client.Name;
            }
        }

        return name;
    }
}
