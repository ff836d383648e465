using Microsoft.Extensions.Options;

namespace Bridge.Host.Admin;

/// <summary>The operators' HTTP API: <c>/admin/…</c>, every route behind an operator token, described at <c>/admin/openapi.json</c> (generated from the endpoints: <see cref="AdminOpenApi"/>).</summary>
public static class AdminApi
{
    public const string OpenApiPath = "/admin/openapi.json";

    public static IHostApplicationBuilder AddBridgeAdmin(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<AdminOptions>().Bind(builder.Configuration.GetSection(AdminOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        builder.Services.AddBridgeAdminAuthentication();
        builder.Services.AddBridgeAdminOpenApi();
        return builder;
    }

    public static WebApplication MapBridgeAdmin(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The description is public: it holds no data, and clients need it before they have a token.
        app.MapOpenApi(OpenApiPath);
        var admin = app.MapGroup("/admin")
            .RequireAuthorization(AdminPolicies.Read)
            .Refuses(StatusCodes.Status401Unauthorized, "No token, or an unknown one.");
        foreach (var routes in app.Services.GetServices<AdminRoutes>())
        {
            routes.MapTo(admin);
        }

        admin.MapAdminSession();
        app.MapAdminUi();
        return app;
    }
}
