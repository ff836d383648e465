using System.Diagnostics;
using System.Diagnostics.Metrics;
using Bridge.Host.Storage;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Messaging;

/// <summary>
/// Bridge's own database going away (a restart, a fail-over, a network cut) is an outage like ActivePlatform's, not a failure
/// of the messages in flight: a delivery whose retries ran out on a failure to reach the database asks a probe (a connection
/// and <c>SELECT 1</c>); while the probe gets no answer the delivery is held unhandled, a probe interval at a time, and then
/// runs again — back on its queue if it has been held for <see cref="OutageOptions.HoldLimit"/> or its queue stops. When the
/// probe is answered the failure is the message's own and goes on to the dead-letter capture as before. Nothing is written
/// meanwhile (there is nowhere to write it): the held delivery is the whole state, and the broker keeps it.
/// </summary>
public sealed partial class DatabaseOutage
{
    private readonly IBridgeDatabase database;
    private readonly IOptionsMonitor<OutageOptions> options;
    private readonly ILogger<DatabaseOutage> logger;
    private readonly Counter<long> held;
    private readonly Counter<long> requeued;
    private readonly Lock gate = new();
    private Task<bool>? lastProbe;
    private long lastProbeStarted;
    private int answering = 1;

    public DatabaseOutage(IBridgeDatabase database, IOptionsMonitor<OutageOptions> options, ILogger<DatabaseOutage> logger, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        this.database = database;
        this.options = options;
        this.logger = logger;
        var meter = meterFactory.Create("Bridge");
        held = meter.CreateCounter<long>("bridge.database.outage.holds", "{hold}", "Times a delivery was held, not dead-lettered, because Bridge's database did not answer.");
        requeued = meter.CreateCounter<long>("bridge.database.outage.requeued", "{message}", "Deliveries put back on their queue, not dead-lettered, because Bridge's database did not answer.");
    }

    /// <summary>How long a held delivery waits before the database is asked again.</summary>
    public TimeSpan ProbeInterval => options.CurrentValue.ProbeInterval;

    /// <summary>
    /// Asks the database for <c>SELECT 1</c>, bounded by <see cref="OutageOptions.ProbeTimeout"/> (a driver may wait for its own
    /// connect timeout whatever the token says: the probe is abandoned then): true when it answered. A probe under way, and a
    /// probe that got no answer for a probe interval, serve every delivery asking meanwhile, so many held deliveries do not
    /// each knock on a recovering server. A change between answering and not is logged once; only the exception's type is
    /// logged (a driver's message can quote the connection string).
    /// </summary>
    public async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        Task<bool> probe;
        lock (gate)
        {
            // A probe under way is shared, and so is "no answer" for a probe interval; an answer is not: a delivery about to be
            // dead-lettered on a database failure deserves a probe after its failure, not one from before it.
            var shared = lastProbe is { IsCompleted: false }
                || (lastProbe is { IsCompletedSuccessfully: true, Result: false } && Stopwatch.GetElapsedTime(lastProbeStarted) < ProbeInterval);
            if (!shared)
            {
                lastProbeStarted = Stopwatch.GetTimestamp();
                lastProbe = ProbeAsync();
            }

            probe = lastProbe!;
        }

        return await probe.WaitAsync(cancellationToken);
    }

    private async Task<bool> ProbeAsync()
    {
        var timeout = options.CurrentValue.ProbeTimeout;
        using var cancel = new CancellationTokenSource(timeout);
        bool answered;
        string? failure = null;
        try
        {
            answered = await SelectOneAsync(cancel.Token).WaitAsync(timeout);
        }
        catch (Exception ex)
        {
            answered = false;
            failure = ex is TimeoutException or OperationCanceledException ? $"no answer within {timeout}" : ex.GetType().Name;
        }

        var was = Interlocked.Exchange(ref answering, answered ? 1 : 0) == 1;
        if (was && !answered)
        {
            LogDown(failure ?? "", ProbeInterval);
        }
        else if (!was && answered)
        {
            LogBack();
        }

        return answered;
    }

    private async Task<bool> SelectOneAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        await command.ExecuteScalarAsync(cancellationToken);
        return true;
    }

    /// <summary>A delivery is held for a probe interval because the database did not answer.</summary>
    public void Holding(string queue, Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        held.Add(1, new KeyValuePair<string, object?>("queue", queue));
        LogHolding(queue, cause.GetType().Name, ProbeInterval);
    }

    /// <summary>Counts a delivery put back on its queue because the database did not answer.</summary>
    public void Requeued(string queue) => requeued.Add(1, new KeyValuePair<string, object?>("queue", queue));

    [LoggerMessage(Level = LogLevel.Debug, Message = "A delivery from {Queue} whose retries ran out on {Exception} is held, not dead-lettered, and runs again in {ProbeInterval}: the database does not answer")]
    private partial void LogHolding(string queue, string exception, TimeSpan probeInterval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bridge's database does not answer ({Failure}): deliveries whose retries run out are held, not dead-lettered, and run again every {ProbeInterval} until it does")]
    private partial void LogDown(string failure, TimeSpan probeInterval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bridge's database answers again: held deliveries run again")]
    private partial void LogBack();
}

/// <summary>
/// A delivery put back on its queue because Bridge's database does not answer: a cancellation, so that MassTransit's retry
/// and error pipes let it pass and the broker requeues it (as <see cref="ActivePlatformOutageException"/>).
/// </summary>
public sealed class DatabaseOutageException : OperationCanceledException
{
    public DatabaseOutageException()
        : this("Bridge's database does not answer: the message goes back to its queue.")
    {
    }

    public DatabaseOutageException(string message)
        : base(message)
    {
    }

    public DatabaseOutageException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public DatabaseOutageException(string message, Exception? innerException, CancellationToken token)
        : base(message, innerException, token)
    {
    }
}
