using System.Data.Common;
using System.Diagnostics;
using System.Net.Sockets;

namespace Bridge.Host.Storage;

/// <summary>Failures to reach the database, told apart from the failures of a statement.</summary>
public static class DatabaseFailures
{
    /// <summary>
    /// How long a write that records what ActivePlatform answered (the answer in hand, nowhere else) keeps trying while the
    /// database does not answer, before the failure goes on as any other: long enough for a restart or a fail-over.
    /// </summary>
    public static readonly TimeSpan AnswerPatience = TimeSpan.FromMinutes(2);

    /// <summary>
    /// SQL Server errors that mean the server or database cannot be reached for now (a connect timeout, a database starting,
    /// failing over or throttled, a transport-level error), or that the statement lost to another transaction (1205 chosen
    /// as a deadlock victim, 1222 lock request timed out) and succeeds when run again: SqlClient does not mark them transient
    /// itself. (Not verified against a server here: there is none on these machines.)
    /// </summary>
    private static readonly HashSet<int> SqlServerUnreachable =
        [-2, 20, 64, 233, 1205, 1222, 4060, 4221, 10053, 10054, 10060, 10928, 10929, 11001, 18401, 40143, 40197, 40501, 40540, 40613, 42108, 42109, 49918, 49919, 49920];

    /// <summary>
    /// Whether <paramref name="exception"/> (or what it wraps) is a failure to reach the database — the kind an outage
    /// explains: a driver's transient error (a broken or refused connection, a timeout, a server shutting down or starting),
    /// SQL Server's errors of that kind, a socket or I/O error under a driver's exception, or a PostgreSQL statement prepared
    /// before a migration changed its result (it is prepared anew when run again). A constraint, a syntax error or a value
    /// refused is not.
    /// </summary>
    public static bool IsUnreachable(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case DbException { IsTransient: true }:
                case DbException when e.InnerException is SocketException or IOException or TimeoutException:
                case Microsoft.Data.SqlClient.SqlException sql when SqlServerUnreachable.Contains(sql.Number):
                    return true;

                // SQLite's file was busy or locked by another connection past the busy timeout (primary codes SQLITE_BUSY 5,
                // SQLITE_LOCKED 6, with their extended codes): Microsoft.Data.Sqlite does not mark it transient.
                case Microsoft.Data.Sqlite.SqliteException sqlite when (sqlite.SqliteErrorCode & 0xFF) is 5 or 6:
                    return true;

                // A statement this connection prepared before another instance's migration changed a column it returns
                // (a rolling upgrade): PostgreSQL refuses it once, Npgsql drops it, and the same statement run again is
                // prepared anew — a blip of the connection, not the statement's own failure (review of issue 8's slice 3).
                case Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.FeatureNotSupported, Routine: "RevalidateCachedQuery" }:
                    return true;
                case AggregateException aggregate when aggregate.InnerExceptions.Any(IsUnreachable):
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Runs <paramref name="write"/> again, with a growing pause, while it fails because the database cannot be reached, for
    /// at most <see cref="AnswerPatience"/>; then (or on any other failure) its failure goes on. For writes that record an
    /// answer ActivePlatform gave (idempotent: run again after an answer lost in a commit, they change nothing).
    /// </summary>
    public static async Task WhileUnreachableAsync(Func<Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        var started = Stopwatch.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await write().ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsUnreachable(ex)
                && !cancellationToken.IsCancellationRequested
                && Stopwatch.GetElapsedTime(started) + pause < AnswerPatience)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
