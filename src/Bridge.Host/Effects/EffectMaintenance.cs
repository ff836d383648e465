using System.Diagnostics.Metrics;
using Bridge.Host.Admin;
using Bridge.Host.Hosting;
using Bridge.Host.Idempotency;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Effects;

public sealed class EffectOptions
{
    public const string Section = "Bridge:Effects";

    /// <summary>
    /// Resolved effects (Applied, NotApplied) are purged this long after they were resolved. Unknown and open effects are
    /// never purged. An applied effect's row is what answers its natural key (a statement line, a top-up key, a correction
    /// key) republished under a new message id, so it is kept at least as long as idempotency records.
    /// </summary>
    public TimeSpan RetainResolvedFor { get; set; } = TimeSpan.FromDays(90);
}

/// <summary>
/// Effect-journal instruments on the <c>Bridge</c> meter: gauges of the effects waiting for an operator (Unknown) and of
/// the age of the oldest open effect (refreshed by <see cref="EffectMaintenance"/>), and counters of operator resolutions
/// and of purged effects.
/// </summary>
public sealed class EffectMetrics
{
    private readonly Counter<long> resolutions;
    private readonly Counter<long> purged;
    private EffectHealth health = new(0, 0, null);

    public EffectMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(BridgeTelemetry.Name);
        Meter.CreateObservableGauge(
            "bridge.effects.unknown",
            () => health.Unknown,
            "{effect}",
            "Effects whose outcome Bridge cannot tell (Unknown): each waits for an operator (bridge effects list).");
        Meter.CreateObservableGauge(
            "bridge.effects.open",
            () => health.Open,
            "{effect}",
            "Effects sent or being sent whose outcome is not known yet (Sending, AsyncTask).");
        Meter.CreateObservableGauge(
            "bridge.effects.oldest_open_age",
            () => health.OldestOpenAge?.TotalSeconds ?? 0,
            "s",
            "Seconds since the oldest open effect (Sending or AsyncTask) was sent, by the database's clock; 0 when none is open.");
        resolutions = Meter.CreateCounter<long>("bridge.effects.operator_resolutions", "{effect}", "Effects resolved by operators, by resolution (Applied, NotApplied), and refused resolutions (refused).");
        purged = Meter.CreateCounter<long>("bridge.effects.purged", "{effect}", "Resolved effects purged past Bridge:Effects:RetainResolvedFor.");
    }

    public Meter Meter { get; }

    public EffectHealth Health => health;

    public void SetHealth(EffectHealth current) => health = current;

    public void Resolved(EffectState resolution) => resolutions.Add(1, new KeyValuePair<string, object?>("resolution", resolution.ToString()));

    public void Refused() => resolutions.Add(1, new KeyValuePair<string, object?>("resolution", "refused"));

    public void Purged(int count) => purged.Add(count);
}

/// <summary>Purges resolved effects past retention (hourly) and keeps the effect gauges current (every minute).</summary>
public sealed partial class EffectMaintenance(
    SqlEffectAdminStore store,
    EffectMetrics metrics,
    IOptions<EffectOptions> options,
    TimeProvider clock,
    ILogger<EffectMaintenance> logger) : PeriodicMaintenance(clock, logger)
{
    protected override string What => "Effect-journal";

    /// <summary>Deletes resolved effects older than <see cref="EffectOptions.RetainResolvedFor"/>; returns how many.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var purged = await store.PurgeAsync(Clock.GetUtcNow() - options.Value.RetainResolvedFor, cancellationToken);
        if (purged > 0)
        {
            metrics.Purged(purged);
            LogPurged(logger, purged, options.Value.RetainResolvedFor);
        }

        return purged;
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var health = await store.ReadHealthAsync(cancellationToken);
        if (health.Unknown > 0 && health.Unknown != metrics.Health.Unknown)
        {
            LogUnknown(logger, health.Unknown);
        }

        metrics.SetHealth(health);
    }

    protected override Task PurgeOnceAsync(CancellationToken cancellationToken) => PurgeAsync(cancellationToken);

    protected override Task EveryTickAsync(CancellationToken cancellationToken) => RefreshAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} resolved effects older than {RetainFor}")]
    private static partial void LogPurged(ILogger logger, int count, TimeSpan retainFor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} effects are Unknown and wait for an operator (bridge effects list)")]
    private static partial void LogUnknown(ILogger logger, long count);
}

public static class EffectRegistration
{
    /// <summary>The effect journal's operator side: resolution, retention, metrics.</summary>
    public static IHostApplicationBuilder AddBridgeEffects(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<EffectOptions>()
            .Bind(builder.Configuration.GetSection(EffectOptions.Section))
            .Validate<IOptions<IdempotencyOptions>>(
                (o, idempotency) => o.RetainResolvedFor >= idempotency.Value.RetainRecordsFor,
                $"{EffectOptions.Section}:RetainResolvedFor must be at least {IdempotencyOptions.Section}:RetainRecordsFor: a resolved effect purged "
                + "while its message can still be replayed would let the replay send it again")
            .ValidateOnStart();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<SqlEffectAdminStore>();
        builder.Services.AddSingleton<EffectMetrics>();
        builder.Services.AddSingleton<EffectOperations>();
        builder.Services.AddSingleton<EffectMaintenance>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<EffectMaintenance>());
        builder.Services.AddAdminRoutes(admin => admin.MapEffectAdmin());
        return builder;
    }
}
