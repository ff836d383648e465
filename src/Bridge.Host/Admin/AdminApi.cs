using Microsoft.Extensions.Options;

namespace Bridge.Host.Admin;

/// <summary>The operators' HTTP API: <c>/admin/…</c>, every route behind an operator token, described at <c>/admin/openapi.json</c>.</summary>
public static class AdminApi
{
    public const string OpenApiPath = "/admin/openapi.json";

    private static readonly Lazy<string> OpenApiDocument = new(() =>
    {
        using var stream = typeof(AdminApi).Assembly.GetManifestResourceStream("Bridge.Host.Admin.openapi.json")
            ?? throw new InvalidOperationException("The admin API's OpenAPI document is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static IHostApplicationBuilder AddBridgeAdmin(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<AdminOptions>().Bind(builder.Configuration.GetSection(AdminOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        builder.Services.AddBridgeAdminAuthentication();
        return builder;
    }

    public static WebApplication MapBridgeAdmin(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The description is public: it holds no data, and clients need it before they have a token.
        app.MapGet(OpenApiPath, () => Results.Text(OpenApiDocument.Value, "application/json"));
        var admin = app.MapGroup("/admin").RequireAuthorization(AdminPolicies.Read);
        foreach (var routes in app.Services.GetServices<AdminRoutes>())
        {
            routes.MapTo(admin);
        }

        admin.MapAdminSession();
        app.MapAdminUi();
        return app;
    }

    public static string OpenApi => OpenApiDocument.Value;
}
