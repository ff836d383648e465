using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Admin;

/// <summary>Who is calling the admin API, as established from their token.</summary>
public sealed record AdminCaller(string Name, AdminRole Role);

/// <summary>
/// The admin API's authentication scheme: bearer tokens from configuration (<c>Bridge:Admin:Tokens</c>). Tokens are
/// compared as SHA-256 hashes in fixed time, so neither their content nor their length leaks through timing; a refused
/// request is answered without saying which part was wrong. The caller becomes a <see cref="ClaimsPrincipal"/> with their
/// name and role, so endpoints are guarded by the ordinary authorization policies <see cref="AdminPolicies.Read"/> and
/// <see cref="AdminPolicies.Operate"/>, and another scheme (an OIDC provider's JWTs) can be added beside this one.
/// </summary>
public sealed class AdminTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    IOptionsMonitor<AdminOptions> adminOptions,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "BridgeAdminToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var caller = AdminAuthentication.Authenticate(header["Bearer ".Length..].Trim(), adminOptions.CurrentValue);
        if (caller is null)
        {
            // Says nothing about the token: it is neither logged nor described.
            return Task.FromResult(AuthenticateResult.Fail("The bearer token is not one of Bridge:Admin:Tokens."));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, caller.Name), new Claim(ClaimTypes.Role, caller.Role.ToString())],
            SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer realm=\"bridge-admin\"";
        return Problem(
            StatusCodes.Status401Unauthorized,
            "An operator token is required",
            "Send a token configured in Bridge:Admin:Tokens as 'Authorization: Bearer <token>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var name = Context.User.Identity?.Name ?? "this token";
        return Problem(
            StatusCodes.Status403Forbidden,
            "This token is read-only",
            $"'{name}' may look but not act; acting needs a token with the Operator role.");
    }

    private Task Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);
}

/// <summary>The admin API's authorization policies, both on the <see cref="AdminTokenAuthenticationHandler"/> scheme.</summary>
public static class AdminPolicies
{
    /// <summary>Any configured token: list, group and show dead letters and effects, watch replay jobs.</summary>
    public const string Read = "BridgeAdminRead";

    /// <summary>A token with the Operator role: replay, edit, discard, restore, resolve.</summary>
    public const string Operate = "BridgeAdminOperate";

    public static IServiceCollection AddBridgeAdminAuthentication(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAuthentication(AdminTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, AdminTokenAuthenticationHandler>(AdminTokenAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Read, policy => policy
                .AddAuthenticationSchemes(AdminTokenAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser())
            .AddPolicy(Operate, policy => policy
                .AddAuthenticationSchemes(AdminTokenAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireRole(nameof(AdminRole.Operator)));
        return services;
    }
}

/// <summary>Token matching and the caller of an authenticated admin request.</summary>
public static class AdminAuthentication
{
    /// <summary>The configured token equal to <paramref name="token"/>, compared in fixed time; null when none is.</summary>
    public static AdminCaller? Authenticate(string token, AdminOptions options)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(options);
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        AdminCaller? caller = null;
        foreach (var configured in options.Tokens)
        {
            // Every entry is compared, so the time taken does not depend on which one matched.
            var expected = SHA256.HashData(Encoding.UTF8.GetBytes(configured.Token));
            if (CryptographicOperations.FixedTimeEquals(presented, expected) && AdminOptions.TryParseRole(configured.Role, out var role))
            {
                caller = new AdminCaller(configured.Name, role);
            }
        }

        return caller;
    }

    /// <summary>The authenticated caller of an admin endpoint (guarded by <see cref="AdminPolicies.Read"/> or stricter).</summary>
    public static AdminCaller Caller(this HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var user = http.User;
        return user.Identity is { IsAuthenticated: true, AuthenticationType: AdminTokenAuthenticationHandler.SchemeName, Name: { } name }
            && AdminOptions.TryParseRole(user.FindFirstValue(ClaimTypes.Role), out var role)
                ? new AdminCaller(name, role)
                : throw new InvalidOperationException("The admin endpoint ran without authentication.");
    }
}
