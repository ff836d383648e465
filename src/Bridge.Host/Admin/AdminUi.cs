using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Admin;

/// <summary>What the page needs to know about the caller before it draws anything: who they are and what they may do.</summary>
/// <param name="EditAndReplay">Whether <c>Bridge:DeadLetters:AllowEditAndReplay</c> is on, so the page can hide the editor when it is not.</param>
/// <param name="Role"><c>Operator</c> or <c>ReadOnly</c>.</param>
public sealed record AdminSession(string Name, string Role, bool EditAndReplay);

/// <summary>
/// The operators' web page at <c>/admin/ui/</c>: three static files embedded in the assembly (no build step). The files
/// hold no data and need no token; every API call the page makes sends the operator token the user pasted, so the page
/// grants nothing the API would not. The strict Content-Security-Policy allows only the page's own script and style:
/// even if a rendered value slipped past the page's text-only rendering, no inline script or handler could run.
/// </summary>
public static class AdminUi
{
    public const string BasePath = "/admin/ui";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["app.js"] = "text/javascript; charset=utf-8",
        ["app.css"] = "text/css; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly Lazy<FrozenDictionary<string, byte[]>> Files = new(() => ContentTypes.Keys.ToFrozenDictionary(
        name => name,
        name =>
        {
            using var stream = typeof(AdminUi).Assembly.GetManifestResourceStream("Bridge.Host.Admin.ui." + name)
                ?? throw new InvalidOperationException($"The admin page's {name} is not embedded.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        },
        StringComparer.Ordinal));

    /// <summary>The page's files, outside the token-protected <c>/admin</c> group.</summary>
    public static WebApplication MapAdminUi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // One route for /admin/ui and /admin/ui/ (routing does not tell them apart).
        app.MapGet(BasePath + "/{file?}", (string? file, HttpContext http) =>
        {
            if (string.IsNullOrEmpty(file) && !http.Request.Path.Value!.EndsWith('/'))
            {
                // Relative URLs in the page (app.js, ../me) resolve only under the trailing slash.
                return Results.Redirect(http.Request.PathBase + BasePath + "/");
            }

            var name = string.IsNullOrEmpty(file) ? "index.html" : file;
            if (!ContentTypes.TryGetValue(name, out var contentType))
            {
                return Results.NotFound();
            }

            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-cache";
            return Results.Bytes(Files.Value[name], contentType);
        }).ExcludeFromDescription();
        return app;
    }

    /// <summary><c>GET /admin/me</c>: the caller's name and role, and whether edit-and-replay is on.</summary>
    public static RouteGroupBuilder MapAdminSession(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        admin.MapGet("/me", (HttpContext http, IOptions<AdminPageFeatures> features) =>
        {
            var caller = http.Caller();
            return Results.Ok(new AdminSession(caller.Name, caller.Role.ToString(), features.Value.EditAndReplay));
        })
            .WithTags("Session")
            .Describe(
                "getAdminSession",
                "Who the token belongs to, what it may do, and whether edit-and-replay is on.",
                "The web page calls this when the operator signs in: to check the token, to disable the action buttons for a ReadOnly token and " +
                "to hide the editor when `Bridge:DeadLetters:AllowEditAndReplay` is off.")
            .Answers<AdminSession>(StatusCodes.Status200OK, "The caller.");
        return admin;
    }
}
