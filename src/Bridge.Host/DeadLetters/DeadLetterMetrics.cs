using System.Diagnostics.Metrics;
using Bridge.Host.DeadLetters.Store;

namespace Bridge.Host.DeadLetters;

/// <summary>
/// Dead-letter instruments on the <c>Bridge</c> meter: counters of captures, replays, discards and fallbacks to the error
/// queue, and a gauge of stored dead letters by status (refreshed by <see cref="Retention.DeadLetterMaintenance"/>).
/// </summary>
public sealed class DeadLetterMetrics
{
    public const string MeterName = "Bridge";

    private readonly Counter<long> captured;
    private readonly Counter<long> replays;
    private readonly Counter<long> discarded;
    private readonly Counter<long> fallbacks;
    private readonly Counter<long> imports;
    private readonly Counter<long> parked;
    private IReadOnlyDictionary<DeadLetterStatus, long> counts = new Dictionary<DeadLetterStatus, long>();

    public DeadLetterMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        captured = Meter.CreateCounter<long>("bridge.dead_letters.captured", "{message}", "Messages stored as dead letters (a repeated failure of one message counts again).");
        replays = Meter.CreateCounter<long>("bridge.dead_letters.replays", "{message}", "Replays of dead letters, by outcome (replayed, refused, failed) and kind (replay, edit).");
        discarded = Meter.CreateCounter<long>("bridge.dead_letters.discarded", "{message}", "Dead letters discarded by operators.");
        fallbacks = Meter.CreateCounter<long>("bridge.dead_letters.error_queue_fallbacks", "{message}", "Failed messages moved to the _error queue because the database could not store them.");
        imports = Meter.CreateCounter<long>("bridge.dead_letters.error_queue_imports", "{message}", "Messages taken from an _error queue into the dead-letter store once the database could take them.");
        parked = Meter.CreateCounter<long>("bridge.dead_letters.error_queue_parked", "{message}", "Messages moved from an _error queue to its _parked queue because the dead-letter store refused them while it took others.");
        Meter.CreateObservableGauge(
            "bridge.dead_letters.count",
            () => counts.Select(pair => new Measurement<long>(pair.Value, new KeyValuePair<string, object?>("status", pair.Key.ToString()))),
            "{message}",
            "Dead letters stored, by status.");
    }

    public Meter Meter { get; }

    public void Captured(string queue, string messageType) =>
        captured.Add(1, new KeyValuePair<string, object?>("queue", queue), new KeyValuePair<string, object?>("message_type", messageType));

    public void Replay(string outcome, string kind = "replay") =>
        replays.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("kind", kind));

    public void Discarded() => discarded.Add(1);

    public void FellBackToErrorQueue(string queue) => fallbacks.Add(1, new KeyValuePair<string, object?>("queue", queue));

    public void ImportedFromErrorQueue(string queue) => imports.Add(1, new KeyValuePair<string, object?>("queue", queue));

    public void ParkedFromErrorQueue(string queue) => parked.Add(1, new KeyValuePair<string, object?>("queue", queue));

    public void SetCounts(IReadOnlyDictionary<DeadLetterStatus, long> current) => counts = current;
}
