using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Features.Payments;
using Bridge.Host.Features.CurrencyRates;
using Bridge.Host.Features.Corrections;
using Bridge.Host.Features.Invoices;
using Bridge.Host.Idempotency;
using MassTransit;
using MassTransit.Configuration;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Messaging;

public static class MessagingRegistration
{
    /// <summary>
    /// The bus: every ERP command consumer by convention, plus the consumers <paramref name="addConsumers"/> registers (the
    /// query queue's, from the composition root: its folder uses Messaging, so Messaging does not name it).
    /// </summary>
    public static IHostApplicationBuilder AddBridgeMessaging(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator>? addConsumers = null)
    {
        // MassTransit's retry warnings for the waits Bridge logs itself go to Debug (ExpectedRetryLoggerFactory).
        builder.Services.AddExpectedRetryLogging();
        var section = builder.Configuration.GetSection(MessagingOptions.Section);
        builder.Services.AddOptions<MessagingOptions>()
            .Bind(section)
            .ValidateDataAnnotations()
            .Validate(
                o => o.Transport != MessagingTransport.RabbitMq || o.RabbitMqUri is not null,
                $"{MessagingOptions.Section}:RabbitMqUri is required when {MessagingOptions.Section}:Transport is RabbitMq")
            .Validate(
                o => o.PrefetchCount is null || (o.PrefetchCount >= o.ConcurrentMessageLimit && o.PrefetchCount <= MessagingOptions.MaxPrefetchCount),
                $"{MessagingOptions.Section}:PrefetchCount must be between {MessagingOptions.Section}:ConcurrentMessageLimit and {MessagingOptions.MaxPrefetchCount}: "
                + "fewer messages prefetched than processed at once would leave the concurrency limit unreachable")
            .Validate(o => o.DeliveryLimit is >= 1 and <= 1000, $"{MessagingOptions.Section}:DeliveryLimit must be between 1 and 1000")
            .Validate(o => o.RetryLimit is >= 0 and <= 50, $"{MessagingOptions.Section}:RetryLimit must be between 0 (no retries) and 50")
            .Validate(o => o.RetryMinInterval >= TimeSpan.Zero, $"{MessagingOptions.Section}:RetryMinInterval must not be negative")
            .Validate(
                o => o.RetryMaxInterval >= o.RetryMinInterval && o.RetryMaxInterval <= MessagingOptions.MaxRetryInterval,
                $"{MessagingOptions.Section}:RetryMaxInterval must be at least {MessagingOptions.Section}:RetryMinInterval and at most {MessagingOptions.MaxRetryInterval:c}")
            .Validate(
                o => o.RetryLimit * o.RetryMaxInterval.TotalSeconds <= MessagingOptions.MaxRetryBudget.TotalSeconds,
                $"{MessagingOptions.Section}:RetryLimit times {MessagingOptions.Section}:RetryMaxInterval must be at most {MessagingOptions.MaxRetryBudget:c}: "
                + "a message is held unacknowledged while it is retried in process, and the broker gives up on it after 30 minutes")
            .ValidateOnStart();

        builder.AddActivePlatformOutage();

        var transport = section.GetValue(nameof(MessagingOptions.Transport), MessagingTransport.RabbitMq);
        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.5 reports usage to its vendor's server by default; a finance service calls no host it was not
            // configured for. MASSTRANSIT_USAGE_TELEMETRY=true (read by MassTransit itself) turns the reports back on.
            bus.DisableUsageTelemetry();

            // /health/ready reports the bus unhealthy until every receive endpoint is consuming.
            bus.ConfigureHealthCheckOptions(health =>
            {
                health.Name = "bus";
                health.MinimalFailureStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy;
                health.Tags.Add("ready");
            });

            // Every ERP consumer by convention, each with its input queue and pipe in one definition.
            bus.AddBridgeConsumers();
            addConsumers?.Invoke(bus);

            if (transport == MessagingTransport.InMemory)
            {
                bus.UsingInMemory((context, cfg) => ConfigureEndpoints(context, cfg));
            }
            else
            {
                bus.UsingRabbitMq((context, cfg) =>
                {
                    var options = context.GetRequiredService<IOptions<MessagingOptions>>().Value;
                    if (options.RabbitMqUri is { } uri)
                    {
                        cfg.Host(uri);
                    }

                    ConfigureEndpoints(context, cfg);
                });
            }
        });

        // Dead letters replayed and messages from the HTTP door go straight to an input queue, confirmed.
        if (transport == MessagingTransport.InMemory)
        {
            builder.Services.AddSingleton<IQueueTransport, InMemoryQueueTransport>();
        }
        else
        {
            builder.Services.AddSingleton<IQueueTransport, RabbitMqQueueTransport>();
        }

        builder.Services.Configure<MassTransitHostOptions>(host =>
        {
            // Start returns once every queue is declared and consuming; a stop cancels in-flight work after a bound,
            // leaving the message on the queue (an async task being polled is resumed from its stored id).
            host.WaitUntilStarted = true;
            host.StopTimeout = TimeSpan.FromSeconds(30);
            host.ConsumerStopTimeout = TimeSpan.FromSeconds(10);
        });

        return builder;
    }

    private static IHostApplicationBuilder AddActivePlatformOutage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OutageOptions>()
            .Bind(builder.Configuration.GetSection(OutageOptions.Section))
            .Validate(
                o => o.ProbeInterval >= TimeSpan.FromMilliseconds(100) && o.ProbeInterval <= TimeSpan.FromMinutes(10),
                $"{OutageOptions.Section}:ProbeInterval must be between 100 ms and 10 minutes")
            .Validate(
                o => o.ProbeTimeout >= TimeSpan.FromMilliseconds(100) && o.ProbeTimeout <= TimeSpan.FromMinutes(2),
                $"{OutageOptions.Section}:ProbeTimeout must be between 100 ms and 2 minutes")
            .Validate(
                o => o.HoldLimit >= TimeSpan.FromSeconds(1) && o.HoldLimit <= TimeSpan.FromMinutes(25),
                $"{OutageOptions.Section}:HoldLimit must be between 1 second and 25 minutes (RabbitMQ closes a channel holding a delivery for 30)")
            .ValidateOnStart();
        builder.Services.AddHttpClient(ActivePlatformProbe.HttpClientName)
            .ConfigureHttpClient((sp, client) =>
            {
                client.BaseAddress = sp.GetRequiredService<IOptions<Bridge.ActivePlatform.ActivePlatformOptions>>().Value.BaseUrl;

                // The probe bounds its own wait (ProbeTimeout).
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .RedactLoggedHeaders([Bridge.ActivePlatform.ApiTokenHandler.HeaderName])
            .AddHttpMessageHandler<Bridge.ActivePlatform.ApiTokenHandler>();
        builder.Services.AddSingleton<IActivePlatformProbe, ActivePlatformProbe>();
        builder.Services.AddSingleton<ActivePlatformOutage>();
        builder.Services.AddSingleton<DatabaseOutage>();
        builder.Services.AddHealthChecks().AddCheck<ActivePlatformOutageHealthCheck>("activeplatform", tags: ["ready"]);
        return builder;
    }

    private static void ConfigureEndpoints<TEndpoint>(IBusRegistrationContext context, IBusFactoryConfigurator<TEndpoint> cfg)
        where TEndpoint : IReceiveEndpointConfigurator
    {
        cfg.ConfigureJsonSerializerOptions(RelaxRequiredMembersOfContracts);

        // One receive endpoint per ERP consumer, as its BridgeConsumerDefinition says.
        cfg.ConfigureEndpoints(context);
    }

    internal static IFilter<ConsumeContext> MessageHandlingFilterFor<TConsumer>(IRegistrationContext context)
        where TConsumer : class, IConsumer
    {
        var messageType = typeof(TConsumer).GetInterfaces()
            .Single(type => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IConsumer<>))
            .GetGenericArguments()[0];
        var logger = context.GetRequiredService<ILoggerFactory>().CreateLogger("Bridge.Host.Messaging.Handling");
        return (IFilter<ConsumeContext>)Activator.CreateInstance(
            typeof(MessageHandlingFilter<>).MakeGenericType(messageType), context.GetRequiredService<MessageMetrics>(), logger)!;
    }

    /// <summary>
    /// A quorum input queue with a delivery limit. What the broker dead-letters past the limit goes, at least once, to the
    /// queue's <c>_error</c> exchange and queue (MassTransit's own names, declared here so they exist before the first such
    /// message): the error-queue sweep moves it into the dead-letter store like any other.
    /// </summary>
    internal static void DeclareQuorum(IRabbitMqReceiveEndpointConfigurator endpoint, MessagingOptions options)
    {
        endpoint.SetQuorumQueue();
        endpoint.SetQueueArgument("x-delivery-limit", options.DeliveryLimit);
        var error = InputQueues.NameOf(endpoint.InputAddress) + InputQueues.ErrorQueueSuffix;
        endpoint.BindDeadLetterQueue(error, error);
        endpoint.SetQueueArgument("x-dead-letter-strategy", "at-least-once");
        endpoint.SetQueueArgument("x-overflow", "reject-publish");
    }

    /// <summary>
    /// A message with a missing field must reach validation and be answered with a rejection naming the field, not fail
    /// deserialization: so C# <c>required</c> is not enforced while reading Bridge's contracts.
    /// </summary>
    private static JsonSerializerOptions RelaxRequiredMembersOfContracts(JsonSerializerOptions options)
    {
        if (!options.IsReadOnly)
        {
            options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(info =>
            {
                if (info.Type.Namespace == typeof(IResultEvent).Namespace)
                {
                    foreach (var property in info.Properties)
                    {
                        property.IsRequired = false;
                    }
                }
            });
        }

        return options;
    }
}
