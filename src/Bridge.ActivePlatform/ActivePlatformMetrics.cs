using System.Diagnostics.Metrics;

namespace Bridge.ActivePlatform;

/// <summary>
/// ActivePlatform instruments on the <c>Bridge</c> meter (the host's, through the same meter factory): async-task polls by
/// result. Call durations and statuses are HttpClient's own <c>http.client.request.duration</c>.
/// </summary>
public sealed class ActivePlatformMetrics
{
    public const string MeterName = "Bridge";

    private readonly Counter<long> polls;

    public ActivePlatformMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        polls = meter.CreateCounter<long>(
            "bridge.activeplatform.async_task_polls",
            "{poll}",
            "Polls of ActivePlatform async tasks, by result (pending, completed, failed, error: the poll itself failed transiently).");
    }

    public void Polled(string result) => polls.Add(1, new KeyValuePair<string, object?>("result", result));
}
