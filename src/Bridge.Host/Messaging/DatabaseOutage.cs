using System.Data.Common;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
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
    /// Whether <paramref name="exception"/> (or what it wraps) is a failure to reach the database — the kind an outage
    /// explains: a driver's transient error (a broken or refused connection, a timeout, a server shutting down or starting),
    /// or a socket or I/O error under a driver's exception. A constraint, a syntax error or a value refused is not.
    /// </summary>
    public static bool IsDatabaseFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException { IsTransient: true })
            {
                return true;
            }

            if (e is DbException && e.InnerException is SocketException or IOException or TimeoutException)
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsDatabaseFailure))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Asks the database for <c>SELECT 1</c> within <see cref="OutageOptions.ProbeTimeout"/>: true when it answered. Only the
    /// exception's type is logged: a driver's message can quote the connection string.
    /// </summary>
    public async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.CurrentValue.ProbeTimeout);
        try
        {
            await using var connection = await database.OpenAsync(timeout.Token);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(timeout.Token);
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogProbeFailed(ex.GetType().Name);
            return false;
        }
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bridge's database does not answer: a delivery from {Queue} whose retries ran out on {Exception} is held, not dead-lettered, and runs again in {ProbeInterval}")]
    private partial void LogHolding(string queue, string exception, TimeSpan probeInterval);

    [LoggerMessage(Level = LogLevel.Information, Message = "The database probe got no answer ({Exception})")]
    private partial void LogProbeFailed(string exception);
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
