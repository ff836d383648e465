using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Tests.Storage;

/// <summary>
/// Connections for leases commit without waiting for the disk; every other connection waits, also when it is a pooled
/// connection that served leases before (SQLite keeps <c>synchronous</c> per connection, and pools connections).
/// </summary>
public abstract class CommitDurabilityTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : StorageFixture
{
    [StoreFact]
    public async Task Lease_connections_do_not_wait_for_the_disk_and_the_others_do_even_after_sharing_a_pool()
    {
        for (var round = 0; round < 3; round++)
        {
            var relaxed = await SettingAsync(await fixture.Database.OpenForLeasesAsync(CancellationToken.None));
            Assert.True(IsRelaxed(relaxed), $"a lease connection has {relaxed}");
            var durable = await SettingAsync(await fixture.Database.OpenAsync(CancellationToken.None));
            Assert.False(IsRelaxed(durable), $"a durable connection has {durable}");
        }
    }

    [StoreFact]
    public async Task Begun_records_and_releases_use_lease_connections_and_claims_renewals_and_completions_do_not()
    {
        // A begun record and a release commit on a lease connection; the claim right after the begin is durable (flows call
        // ActivePlatform on the strength of their claim alone: a claim lost in a crash let a second delivery in, a review
        // found), and so it makes the begin durable too; a renewal is durable, or a crash could shorten a live claim.
        var counting = new CountingDatabase(fixture.Database);
        var documents = new SqlDocumentStateStore(counting, TimeProvider.System);
        var records = new SqlIdempotencyStore(counting, TimeProvider.System);
        var key = $"durability-{Guid.NewGuid():N}";

        Assert.True(await documents.TryClaimAsync("scope", key, "owner", TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.True(await documents.TryRenewAsync(null, "scope", key, "owner", TimeSpan.FromMinutes(1), CancellationToken.None));
        await records.BeginAsync(key, "SendClosingDocument", "v2:fingerprint", key, CancellationToken.None);
        await documents.ReleaseAsync(null, "scope", key, "owner", CancellationToken.None);
        Assert.Equal((2, 2), (counting.ForLeases, counting.Durable));

        await using (var connection = await counting.OpenAsync(CancellationToken.None))
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            Assert.True(await records.CompleteAsync(transaction, key, "Applied", null, CancellationToken.None));
            await transaction.CommitAsync();
        }

        Assert.Equal(IdempotencyState.Completed, (await records.FindAsync(key, CancellationToken.None))!.State);
        Assert.Equal(2, counting.ForLeases);
    }

    protected abstract bool IsRelaxed(string setting);

    protected abstract string SettingQuery { get; }

    private async Task<string> SettingAsync(System.Data.Common.DbConnection connection)
    {
        await using (connection)
        {
            return Convert.ToString(await connection.ExecuteScalarAsync(SettingQuery), System.Globalization.CultureInfo.InvariantCulture)!;
        }
    }

    private sealed class CountingDatabase(IBridgeDatabase inner) : IBridgeDatabase
    {
        public int ForLeases;
        public int Durable;

        public SqlDialect Dialect => inner.Dialect;

        public int PurgeBatchSize => inner.PurgeBatchSize;

        public Task<System.Data.Common.DbConnection> OpenAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Durable);
            return inner.OpenAsync(cancellationToken);
        }

        public Task<System.Data.Common.DbConnection> OpenForLeasesAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref ForLeases);
            return inner.OpenForLeasesAsync(cancellationToken);
        }

        public Task MigrateAsync(CancellationToken cancellationToken) => inner.MigrateAsync(cancellationToken);
    }
}

public sealed class PostgreSqlCommitDurabilityTests(PostgreSqlStorageFixture fixture) : CommitDurabilityTests<PostgreSqlStorageFixture>(fixture)
{
    // By its source: the test cluster itself runs with synchronous_commit off for speed (chaos.sh turns it on), and a durable
    // connection must leave the server's setting alone, whatever it is.
    protected override bool IsRelaxed(string setting) => setting == "off/client";

    protected override string SettingQuery => "SELECT setting || '/' || source FROM pg_settings WHERE name = 'synchronous_commit';";
}

public sealed class SqliteCommitDurabilityTests(SqliteStorageFixture fixture) : CommitDurabilityTests<SqliteStorageFixture>(fixture)
{
    // 1 = NORMAL, 2 = FULL.
    protected override bool IsRelaxed(string setting) => setting switch
    {
        "1" => true,
        "2" => false,
        _ => throw new InvalidOperationException($"synchronous = {setting}"),
    };

    protected override string SettingQuery => "PRAGMA synchronous;";
}
