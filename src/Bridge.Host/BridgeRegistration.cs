using Bridge.ActivePlatform;
using Bridge.Host.DeadLetters.Registration;
using Bridge.Host.Effects;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Hosting;
using Bridge.Host.Idempotency;
using Bridge.Host.Ingress;
using Bridge.Host.Messaging;
using Bridge.Host.Outbox;
using Bridge.Host.Queries;
using Bridge.Host.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bridge.Host;

/// <summary>
/// The composition root, beside Program.cs: every folder's registration, in order. It is the one place that uses them all;
/// nothing below uses it (NamespaceCycleTests).
/// </summary>
public static class BridgeRegistration
{
    /// <summary>Everything the service needs: storage, the ActivePlatform client, the pipeline, messaging and health.</summary>
    public static IHostApplicationBuilder AddBridge(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddBridgeTelemetry();
        builder.AddBridgeStorageAndMigrations();
        builder.AddBridgeActivePlatform();
        builder.AddBridgePipeline();
        builder.AddBridgeDeadLetters();
        builder.AddBridgeEffects();
        builder.AddBridgeQueries();
        builder.AddBridgeMessaging(bus => bus.AddBridgeQueryConsumer());
        builder.AddBridgeIngress();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<OutboxHealthCheck>("outbox", tags: ["ready"]);
        return builder;
    }

    public static IHostApplicationBuilder AddBridgeStorageAndMigrations(this IHostApplicationBuilder builder)
    {
        // Registers the migration hosted service too: added before MassTransit's, so the schema is current before the
        // first message is consumed.
        builder.Services.AddBridgeStorage(builder.Configuration);
        return builder;
    }

    public static IHostApplicationBuilder AddBridgePipeline(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMediator(options =>
        {
            options.ServiceLifetime = ServiceLifetime.Singleton;
            options.Namespace = "Bridge.Host.Mediator";
            options.PipelineBehaviors = [typeof(Idempotency.ErpCommandValidation<,>)];
        });
        builder.Services.AddOptions<IdempotencyOptions>()
            .Bind(builder.Configuration.GetSection(IdempotencyOptions.Section))
            .Validate(o => o.DocumentClaimLease >= TimeSpan.FromSeconds(3), $"{IdempotencyOptions.Section}:DocumentClaimLease must be at least 3 seconds")
            .Validate(o => o.RetainRecordsFor >= TimeSpan.FromDays(1), $"{IdempotencyOptions.Section}:RetainRecordsFor must be at least one day")
            .ValidateOnStart();
        builder.Services.AddOptions<OutboxOptions>()
            .Bind(builder.Configuration.GetSection(OutboxOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.ClaimLease >= TimeSpan.FromSeconds(1) && o.ClaimLease <= TimeSpan.FromDays(1), $"{OutboxOptions.Section}:ClaimLease must be between 1 second and 1 day")
            .Validate(o => o.RetryBaseDelay > TimeSpan.Zero, $"{OutboxOptions.Section}:RetryBaseDelay must be above zero")
            .Validate(
                o => o.RetryMaxDelay >= o.RetryBaseDelay && o.RetryMaxDelay <= TimeSpan.FromDays(1),
                $"{OutboxOptions.Section}:RetryMaxDelay must be at least RetryBaseDelay and at most 1 day")
            .ValidateOnStart();
        builder.Services.AddOptions<ClosingDocumentOptions>().Bind(builder.Configuration.GetSection(ClosingDocumentOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<OutboxMetrics>();
        builder.Services.AddSingleton<MessageMetrics>();
        builder.Services.AddSingleton<ResultEvents>();
        builder.Services.AddSingleton<IdempotentExecutor>();
        builder.Services.AddSingleton<Features.ClosingDocuments.ClosingDocumentWrites>();
        builder.Services.AddSingleton<Features.Payments.PaymentEffectGroup>();
        builder.Services.AddSingleton<Effects.IEffectResourceCheck, Features.Payments.TopUpResourceCheck>();
        builder.Services.AddSingleton<Effects.IEffectResourceCheck, Features.Payments.StatementLineResourceCheck>();
        builder.Services.AddHostedService<OutboxDispatcher>();
        builder.Services.AddHostedService<IdempotencyRetention>();
        return builder;
    }

    /// <summary>Every endpoint the service serves: health, the operators' API and page, and the HTTP door.</summary>
    public static WebApplication MapBridgeEndpoints(this WebApplication app)
    {
        app.MapBridgeHealth();
        Admin.AdminApi.MapBridgeAdmin(app);
        app.MapBridgeIngress();
        app.MapBridgeQueries();
        return app;
    }

    public static WebApplication MapBridgeHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return app;
    }
}

internal sealed class DatabaseHealthCheck(IBridgeDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{database.Dialect} reachable");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The exception type only: a driver's message can quote the connection string.
            return HealthCheckResult.Unhealthy($"{database.Dialect} unreachable ({ex.GetType().Name})");
        }
    }
}

public static class ActivePlatformRegistration
{
    public static IHostApplicationBuilder AddBridgeActivePlatform(this IHostApplicationBuilder builder)
    {
        builder.Services.AddActivePlatformClient(builder.Configuration.GetSection(Bridge.ActivePlatform.ActivePlatformOptions.SectionName));

        // The rate limit toward ActivePlatform is the installation's: each instance takes its share of it, counted in the database.
        builder.Services.AddOptions<InstanceOptions>()
            .Bind(builder.Configuration.GetSection(InstanceOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.Lease >= o.HeartbeatInterval * 2, $"{InstanceOptions.Section}:Lease must be at least twice {InstanceOptions.Section}:HeartbeatInterval")
            .ValidateOnStart();
        builder.Services.AddSingleton<InstanceRegistry>();
        builder.Services.AddSingleton<Bridge.ActivePlatform.IActivePlatformRateShare>(provider => provider.GetRequiredService<InstanceRegistry>());
        builder.Services.AddHostedService(provider => provider.GetRequiredService<InstanceRegistry>());
        return builder;
    }
}
