using Dapper;

namespace Bridge.Host.Storage;

/// <summary>
/// Runs a purge as a series of short statements. Each deletes at most <c>@BatchSize</c> rows older than <c>@OlderThan</c>
/// and commits on its own, so no statement holds locks on more rows than one batch (on SQL Server, one DELETE over many
/// rows escalates to a table lock that stalls every consumer).
/// </summary>
internal static class SqlPurge
{
    /// <summary>Repeats <paramref name="statement"/> until a batch comes back short; returns how many rows went in all.</summary>
    public static async Task<int> InBatchesAsync(IBridgeDatabase database, string statement, DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        var parameters = new { OlderThan = SqlValues.Timestamp(database.Dialect, olderThan), BatchSize = database.PurgeBatchSize };
        var total = 0;
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var deleted = await connection.ExecuteAsync(new CommandDefinition(
                statement, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
            total += deleted;
            if (deleted < database.PurgeBatchSize)
            {
                return total;
            }
        }
    }
}
