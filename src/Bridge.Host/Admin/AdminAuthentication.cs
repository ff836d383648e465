using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Admin;

/// <summary>Who is calling the admin API, as established from their token.</summary>
public sealed record AdminCaller(string Name, AdminRole Role);

/// <summary>
/// Bearer tokens from configuration. Tokens are compared as SHA-256 hashes in fixed time, so neither their content nor their
/// length leaks through timing; a refused request is answered without saying which part was wrong.
/// </summary>
public static class AdminAuthentication
{
    private const string CallerKey = "Bridge.AdminCaller";

    public static AdminCaller? Authenticate(HttpContext http, AdminOptions options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        AdminCaller? caller = null;
        foreach (var token in options.Tokens)
        {
            // Every entry is compared, so the time taken does not depend on which one matched.
            var expected = SHA256.HashData(Encoding.UTF8.GetBytes(token.Token));
            if (CryptographicOperations.FixedTimeEquals(presented, expected) && AdminOptions.TryParseRole(token.Role, out var role))
            {
                caller = new AdminCaller(token.Name, role);
            }
        }

        return caller;
    }

    public static AdminCaller Caller(this HttpContext http) =>
        http.Items.TryGetValue(CallerKey, out var caller) && caller is AdminCaller admin
            ? admin
            : throw new InvalidOperationException("The admin endpoint ran without authentication.");

    /// <summary>Every admin endpoint: 401 without a valid token.</summary>
    public static async ValueTask<object?> RequireToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var options = http.RequestServices.GetRequiredService<IOptionsMonitor<AdminOptions>>().CurrentValue;
        var caller = Authenticate(http, options);
        if (caller is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"bridge-admin\"";
            return Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "An operator token is required",
                detail: "Send a token configured in Bridge:Admin:Tokens as 'Authorization: Bearer <token>'.");
        }

        http.Items[CallerKey] = caller;
        return await next(context);
    }

    /// <summary>Endpoints that change something: 403 for a read-only token.</summary>
    public static async ValueTask<object?> RequireOperator(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var caller = context.HttpContext.Caller();
        if (caller.Role != AdminRole.Operator)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "This token is read-only",
                detail: $"'{caller.Name}' may look but not act; acting needs a token with the Operator role.");
        }

        return await next(context);
    }
}
