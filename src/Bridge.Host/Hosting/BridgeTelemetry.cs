using System.Diagnostics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Bridge.Host.Hosting;

/// <summary>
/// OpenTelemetry for Bridge: traces from the <c>Bridge</c> activity source, MassTransit, HttpClient (ActivePlatform calls),
/// ASP.NET Core (admin API) and Npgsql; metrics from the <c>Bridge</c> meter, MassTransit, HttpClient, ASP.NET Core and
/// the runtime. The OTLP exporter is configured by the standard <c>OTEL_*</c> variables and is on only when one of the
/// <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c> variables is set: otherwise nothing is exported, and the dependencies' spans are not
/// recorded at all (<see cref="TraceDependenciesSetting"/>).
/// </summary>
public static class BridgeTelemetry
{
    /// <summary>The name of Bridge's activity source and of its meter.</summary>
    public const string Name = "Bridge";

    /// <summary>MassTransit's activity source and meter.</summary>
    public const string MassTransitName = "MassTransit";

    /// <summary>The service name when <c>OTEL_SERVICE_NAME</c> is not set.</summary>
    public const string DefaultServiceName = "bridge";

    /// <summary>The variables that turn the OTLP exporter on (any one of them).</summary>
    public static readonly IReadOnlyList<string> OtlpEndpointVariables =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    public static readonly ActivitySource Source = new(Name);

    /// <summary>
    /// Whether HttpClient, ASP.NET Core and Npgsql spans are recorded: by default only when the OTLP exporter is on (nothing
    /// else would see them).
    /// </summary>
    public const string TraceDependenciesSetting = "Bridge:Telemetry:TraceDependencies";

    /// <summary>Whether the configuration (environment variables included) asks for the OTLP exporter.</summary>
    public static bool OtlpConfigured(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return OtlpEndpointVariables.Any(name => !string.IsNullOrWhiteSpace(configuration[name]));
    }

    public static IHostApplicationBuilder AddBridgeTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var otlp = OtlpConfigured(builder.Configuration);
        var telemetry = builder.Services.AddOpenTelemetry();
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]))
        {
            // Only as a default: the SDK's own resource detection reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
            telemetry.ConfigureResource(resource => resource.AddService(DefaultServiceName, serviceInstanceId: Environment.MachineName));
        }

        // The spans of every dependency call (each ActivePlatform call, each PostgreSQL command, each admin request) cost CPU
        // on every message and go nowhere unless something exports them: off then, unless asked for. Bridge's and
        // MassTransit's own spans stay, so a result event still carries its message's trace (traceparent) either way.
        var dependencies = builder.Configuration.GetValue<bool?>(TraceDependenciesSetting) ?? otlp;
        telemetry
            .WithTracing(tracing =>
            {
                tracing.AddSource(Name, MassTransitName);
                if (dependencies)
                {
                    tracing
                        .AddHttpClientInstrumentation()
                        .AddAspNetCoreInstrumentation(options => options.Filter = http => !http.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal))
                        .AddNpgsql();
                }
            })
            .WithMetrics(metrics => metrics
                .AddMeter(Name, MassTransitName)
                .AddHttpClientInstrumentation()
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation());

        if (otlp)
        {
            // Logs go out too, with their scopes (correlation id, idempotency key, ERP key, flow).
            telemetry.WithLogging(configureBuilder: null, configureOptions: options => options.IncludeScopes = true);
            telemetry.UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>The W3C <c>traceparent</c> of <paramref name="activity"/>, or null when it has none (no listener, or a hierarchical id).</summary>
    public static string? TraceParentOf(Activity? activity) =>
        activity is { IdFormat: ActivityIdFormat.W3C, Id: { } id } ? id : null;
}
