using Bridge.Host.Admin;
using Bridge.Host.DeadLetters.Api;
using Bridge.Host.DeadLetters.Capture;
using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Retention;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Microsoft.Extensions.Options;

namespace Bridge.Host.DeadLetters.Registration;

public static class DeadLetterRegistration
{
    /// <summary>
    /// Dead-letter capture (the error pipe of every input queue, <see cref="DeadLetterErrorPipe"/>), the store, replay and
    /// its jobs, retention, metrics, the admin API's options and the dead-letter routes under <c>/admin</c>.
    /// </summary>
    public static IHostApplicationBuilder AddBridgeDeadLetters(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<DeadLetterOptions>()
            .Bind(builder.Configuration.GetSection(DeadLetterOptions.Section))
            .Validate(o => o.RetainFor >= TimeSpan.FromHours(1), $"{DeadLetterOptions.Section}:RetainFor must be at least one hour")
            .Validate(o => o.ReplayClaimLease >= TimeSpan.FromSeconds(5), $"{DeadLetterOptions.Section}:ReplayClaimLease must be at least 5 seconds")
            .Validate(o => o.ReplayJobLease >= TimeSpan.FromSeconds(1), $"{DeadLetterOptions.Section}:ReplayJobLease must be at least one second")
            .Validate(o => o.DefaultReplayBatchSize is >= 1 and <= 1000, $"{DeadLetterOptions.Section}:DefaultReplayBatchSize must be between 1 and 1000")
            .Validate(
                o => o.DefaultReplayRatePerSecond > 0 && o.MaxReplayRatePerSecond >= o.DefaultReplayRatePerSecond,
                $"{DeadLetterOptions.Section}:DefaultReplayRatePerSecond must be above 0 and at most MaxReplayRatePerSecond")
            .Validate(o => o.ErrorQueueSweepInterval >= TimeSpan.FromSeconds(1), $"{DeadLetterOptions.Section}:ErrorQueueSweepInterval must be at least one second")
            .Validate(o => o.ErrorQueueSweepBatchSize >= 1, $"{DeadLetterOptions.Section}:ErrorQueueSweepBatchSize must be at least 1")
            .Validate<IOptions<IdempotencyOptions>>(
                (o, idempotency) => idempotency.Value.RetainRecordsFor >= o.RetainFor,
                $"{IdempotencyOptions.Section}:RetainRecordsFor must be at least {DeadLetterOptions.Section}:RetainFor: a dead letter replayed "
                + "after its message's idempotency record was purged could be applied twice")
            .ValidateOnStart();

        builder.Services.AddMetrics();
        builder.Services.AddSingleton<IDeadLetterStore, SqlDeadLetterStore>();
        builder.Services.AddSingleton<DeadLetterMetrics>();
        builder.Services.AddSingleton<DeadLetterCapture>();
        builder.Services.AddSingleton<DeadLetterOperations>();
        builder.Services.AddSingleton<IReplayJobStore, SqlReplayJobStore>();
        builder.Services.AddSingleton<ReplayJobs>();
        builder.Services.AddSingleton<DeadLetterInputQueues>();
        builder.Services.AddSingleton<IInputQueueErrorPipe, DeadLetterErrorPipe>();
        var transport = builder.Configuration.GetSection(MessagingOptions.Section).GetValue(nameof(MessagingOptions.Transport), MessagingTransport.RabbitMq);
        if (transport == MessagingTransport.RabbitMq)
        {
            // The in-memory transport has no error queues a second client could read.
            builder.Services.AddSingleton<ErrorQueueSweeper>();
            builder.Services.AddHostedService(provider => provider.GetRequiredService<ErrorQueueSweeper>());
        }

        builder.Services.AddSingleton<DeadLetterKeyBackfill>();
        builder.Services.AddSingleton<DeadLetterMaintenance>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<DeadLetterMaintenance>());
        builder.AddBridgeAdmin();
        builder.Services.AddAdminRoutes(admin => admin.MapDeadLetterAdmin());
        builder.Services.AddOptions<AdminPageFeatures>()
            .Configure<IOptions<DeadLetterOptions>>((page, deadLetters) => page.EditAndReplay = deadLetters.Value.AllowEditAndReplay);
        return builder;
    }
}
