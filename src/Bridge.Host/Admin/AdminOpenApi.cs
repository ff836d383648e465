using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;

namespace Bridge.Host.Admin;

/// <summary>
/// The admin API's OpenAPI document, generated from the endpoints themselves (Microsoft.AspNetCore.OpenApi) and served
/// without a token at <see cref="AdminApi.OpenApiPath"/>: every <c>/admin/…</c> route with its parameters, bodies and
/// answers as the endpoint declares them (<see cref="Describe"/>, <see cref="Answers{T}"/>, <see cref="Refuses{TBuilder}"/>),
/// the schemas of the types it reads and writes, and the bearer scheme on every route an authorization policy guards.
/// </summary>
public static class AdminOpenApi
{
    /// <summary>The document's name: the one <c>MapOpenApi</c> serves on a route without a <c>{documentName}</c> parameter.</summary>
    public const string DocumentName = "v1";

    public const string SecurityScheme = "bearer";

    private const string Description =
        "Operators find, understand, replay and discard Bridge's dead letters: messages that exhausted their retries or could not be read; " +
        "and they resolve the effects on ActivePlatform whose outcome Bridge could not tell (`/admin/effects`). Every route needs " +
        "`Authorization: Bearer <token>` with a token from `Bridge:Admin:Tokens`; actions need the Operator role (a ReadOnly token gets 403). " +
        "Every action, refused ones included, is recorded in the dead letter's (or the effect's) audit trail with the token's name. " +
        "Operators without a script use the web page at `/admin/ui/` (static files, no token needed to load them), which calls this API " +
        "with the token they paste.";

    public static IServiceCollection AddBridgeAdminOpenApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith("admin/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = "Bridge admin API", Version = "1.0.0", Description = Description };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
                document.Components.SecuritySchemes[SecurityScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A token from `Bridge:Admin:Tokens`.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                // The scheme is required exactly where a policy guards the endpoint, read from the endpoint's own metadata.
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
                {
                    operation.Security =
                    [
                        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecurityScheme, context.Document)] = [] },
                    ];
                }

                return Task.CompletedTask;
            });
        });
    }

    /// <summary>Names the operation (its <c>operationId</c>) and says what it does.</summary>
    public static RouteHandlerBuilder Describe(this RouteHandlerBuilder endpoint, string operationId, string summary, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        endpoint.WithName(operationId).WithSummary(summary);
        return description is null ? endpoint : endpoint.WithDescription(description);
    }

    /// <summary>Declares a JSON answer of type <typeparamref name="T"/> with <paramref name="status"/>.</summary>
    public static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder endpoint, int status, string description)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(T), ["application/json"]) { Description = description });
    }

    /// <summary>Declares a problem document (RFC 9457) answered with <paramref name="status"/>, on one endpoint or a whole group.</summary>
    public static TBuilder Refuses<TBuilder>(this TBuilder endpoint, int status, string description)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), ["application/problem+json"]) { Description = description });
    }
}
