using System.Data.Common;
using System.Diagnostics.Metrics;
using Bridge.Host.Effects;
using Bridge.Host.Storage;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using Xunit;

namespace Bridge.Tests.Storage;

/// <summary>
/// The effect journal's operator side against each real database: listing what needs an operator, a resolution that applies
/// only from the state and attempt seen (one winner of two), the wait before an open effect may be resolved (database
/// time), the figures behind the metrics, and retention that purges resolved effects in batches and never an Unknown or
/// open one.
/// </summary>
public abstract class EffectAdminStoreTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : StorageFixture
{
    private const int BatchSize = 3;

    private static readonly TimeSpan Wait = TimeSpan.FromMinutes(7);

    protected TFixture Fixture { get; } = fixture;

    private SqlEffectJournal Journal => new(Fixture.Database);

    private SqlEffectAdminStore Store => new(Fixture.Database);

    private static EffectId Line(string payment, string line) => new("payment-statement-line:1", $"{payment}|{line}", payment);

    public async Task InitializeAsync()
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync($"DELETE FROM {Fixture.Table("effect_audit")}; DELETE FROM {Fixture.Table("effect_journal")};");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task By_default_the_list_holds_every_Unknown_effect_and_the_open_ones_older_than_asked_oldest_first()
    {
        var unknown = await UnknownAsync(Line("P1", "A"), "msg-1");
        var stale = Line("P2", "A");
        await Journal.TryBeginAsync(stale, "msg-2", "fp", null, CancellationToken.None);
        await BackdateAsync(stale, "sent_at", TimeSpan.FromMinutes(30));
        await Journal.TryBeginAsync(Line("P3", "A"), "msg-3", "fp", null, CancellationToken.None);
        var applied = Line("P4", "A");
        await Journal.ResolveAsync(applied, (await Journal.TryBeginAsync(applied, "msg-4", "fp", null, CancellationToken.None))!, EffectState.Applied, "corr-4", null, CancellationToken.None);

        var needing = await Store.QueryAsync(new EffectFilter(OpenOlderThan: Wait), 1, 50, CancellationToken.None);
        var everyOpen = await Store.QueryAsync(new EffectFilter(OpenOlderThan: TimeSpan.Zero), 1, 50, CancellationToken.None);
        var appliedOnly = await Store.QueryAsync(new EffectFilter(State: EffectState.Applied), 1, 50, CancellationToken.None);
        var byOwner = await Store.QueryAsync(new EffectFilter(State: EffectState.Unknown, Owner: "msg-1"), 1, 50, CancellationToken.None);
        var byKey = await Store.QueryAsync(new EffectFilter(Scope: "payment-statement-line:1", Key: "P2|A", Group: "P2"), 1, 50, CancellationToken.None);
        var secondPage = await Store.QueryAsync(new EffectFilter(OpenOlderThan: TimeSpan.Zero), 2, 2, CancellationToken.None);

        Assert.Equal([stale.Hash, unknown.Hash], needing.Items.Select(item => item.Id));
        Assert.Equal(2, needing.Total);
        Assert.Equal(3, everyOpen.Total);
        Assert.Equal(("corr-4", EffectState.Applied), (Assert.Single(appliedOnly.Items).Entry.ResourceId, appliedOnly.Items[0].Entry.State));
        Assert.Equal(unknown, Assert.Single(byOwner.Items).Entry.Id);
        Assert.Equal(stale, Assert.Single(byKey.Items).Entry.Id);
        Assert.Equal((3L, 1), (secondPage.Total, secondPage.Items.Count));
        var oldest = needing.Items[0];
        Assert.InRange(oldest.Entry.SinceSent, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(31));
        Assert.True(oldest.UpdatedAt > oldest.Entry.SentAt, "updated after the back-dated send");
    }

    [StoreFact]
    public async Task A_resolution_applies_once_from_the_state_and_attempt_seen_with_its_audit_entry()
    {
        var id = Line("P5", "A");
        var seen = await UnknownAsync(id, "msg-5");
        await BackdateAsync(id, "sent_at", Wait + TimeSpan.FromMinutes(1));
        var entry = (await Store.GetAsync(seen.Hash, CancellationToken.None))!.Effect.Entry;

        // Two operators resolve it at once: exactly one update applies.
        var both = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Task.Run(() => Store.TryResolveAsync(
            entry, EffectState.NotApplied, null, $$"""{"resolvedBy":"op-{{i}}","note":"n"}""", Wait, new EffectAction($"op-{i}", "Resolve", "NotApplied"), CancellationToken.None))));

        Assert.Equal(1, both.Count(won => won));
        var details = (await Store.GetAsync(seen.Hash, CancellationToken.None))!;
        Assert.Equal(EffectState.NotApplied, details.Effect.Entry.State);
        var audit = Assert.Single(details.Audit);
        Assert.Equal(("Resolve", "NotApplied"), (audit.Action, audit.Outcome));
        Assert.StartsWith("op-", audit.Actor, StringComparison.Ordinal);
        Assert.Contains(audit.Actor, details.Effect.Entry.Evidence, StringComparison.Ordinal);

        // Sent again and Unknown again: the first attempt's view no longer applies.
        var again = await Journal.TryBeginAsync(id, "msg-5", "fp", null, CancellationToken.None);
        await Journal.ResolveAsync(id, again!, EffectState.Unknown, null, null, CancellationToken.None);
        Assert.False(await Store.TryResolveAsync(entry with { State = EffectState.Unknown }, EffectState.Applied, "corr-5", "{}", Wait, new EffectAction("late", "Resolve", "Applied"), CancellationToken.None));
        Assert.Equal(EffectState.Unknown, (await Store.GetAsync(seen.Hash, CancellationToken.None))!.Effect.Entry.State);

        // A resource another effect of the scope owns is refused by the database.
        var other = Line("P6", "A");
        await Journal.ResolveAsync(other, (await Journal.TryBeginAsync(other, "msg-6", "fp", null, CancellationToken.None))!, EffectState.Applied, "corr-6", null, CancellationToken.None);
        var current = (await Store.GetAsync(seen.Hash, CancellationToken.None))!.Effect.Entry;
        await Assert.ThrowsAnyAsync<DbException>(() => Store.TryResolveAsync(current, EffectState.Applied, "corr-6", "{}", Wait, new EffectAction("op", "Resolve", "Applied"), CancellationToken.None));
        Assert.True(await Store.TryResolveAsync(current, EffectState.Applied, "corr-5", "{}", Wait, new EffectAction("op", "Resolve", "Applied"), CancellationToken.None));
        Assert.Equal(("corr-5", 2), ((await Store.GetAsync(seen.Hash, CancellationToken.None))!.Effect.Entry.ResourceId, (await Store.GetAsync(seen.Hash, CancellationToken.None))!.Audit.Count));
    }

    [StoreFact]
    public async Task An_Unknown_effect_is_resolved_as_applied_at_once_but_as_not_applied_only_once_its_send_can_no_longer_land()
    {
        // Just sent and found Unknown: its request may still be carried out, so "not applied" (which sends it again) waits.
        var fresh = await UnknownAsync(Line("P9", "A"), "msg-9");
        var entry = (await Store.GetAsync(fresh.Hash, CancellationToken.None))!.Effect.Entry;
        Assert.False(await Store.TryResolveAsync(entry, EffectState.NotApplied, null, "{}", Wait, new EffectAction("op", "Resolve", "NotApplied"), CancellationToken.None));
        Assert.Equal(EffectState.Unknown, (await Store.GetAsync(fresh.Hash, CancellationToken.None))!.Effect.Entry.State);

        // "Applied" sends nothing again: recorded at once.
        Assert.True(await Store.TryResolveAsync(entry, EffectState.Applied, "corr-9", "{}", Wait, new EffectAction("op", "Resolve", "Applied"), CancellationToken.None));
        Assert.Equal(EffectState.Applied, (await Store.GetAsync(fresh.Hash, CancellationToken.None))!.Effect.Entry.State);

        // Past the wait by the database's clock, "not applied" is recorded.
        var old = await UnknownAsync(Line("P10", "A"), "msg-10");
        await BackdateAsync(old, "sent_at", Wait + TimeSpan.FromMinutes(1));
        var settled = (await Store.GetAsync(old.Hash, CancellationToken.None))!.Effect.Entry;
        Assert.True(await Store.TryResolveAsync(settled, EffectState.NotApplied, null, "{}", Wait, new EffectAction("op", "Resolve", "NotApplied"), CancellationToken.None));
        Assert.Equal(EffectState.NotApplied, (await Store.GetAsync(old.Hash, CancellationToken.None))!.Effect.Entry.State);
    }

    [StoreFact]
    public async Task An_open_effect_can_be_resolved_only_once_it_was_sent_longer_ago_than_the_wait_by_database_time()
    {
        var id = Line("P7", "A");
        await Journal.TryBeginAsync(id, "msg-7", "fp", null, CancellationToken.None);
        var fresh = (await Store.GetAsync(id.Hash, CancellationToken.None))!.Effect.Entry;

        Assert.False(await Store.TryResolveAsync(fresh, EffectState.NotApplied, null, "{}", Wait, new EffectAction("op", "Resolve", "NotApplied"), CancellationToken.None));
        Assert.Equal(EffectState.Sending, (await Store.GetAsync(id.Hash, CancellationToken.None))!.Effect.Entry.State);

        await BackdateAsync(id, "sent_at", Wait + TimeSpan.FromMinutes(1));
        Assert.True(await Store.TryResolveAsync(fresh, EffectState.NotApplied, null, "{}", Wait, new EffectAction("op", "Resolve", "NotApplied"), CancellationToken.None));
        var resolved = (await Store.GetAsync(id.Hash, CancellationToken.None))!.Effect.Entry;
        Assert.Equal((EffectState.NotApplied, false), (resolved.State, resolved.IsOpen));

        // Its group is free again: the next line of the payment may be sent.
        Assert.NotNull(await Journal.TryBeginAsync(Line("P7", "B"), "msg-8", "fp", null, CancellationToken.None));
    }

    [StoreFact]
    public async Task Health_counts_Unknown_and_open_effects_and_ages_the_oldest_open_one()
    {
        Assert.Equal(new EffectHealth(0, 0, null), await Store.ReadHealthAsync(CancellationToken.None));

        await UnknownAsync(Line("P8", "A"), "msg-1");
        await UnknownAsync(Line("P9", "A"), "msg-2");
        var old = Line("P10", "A");
        await Journal.TryBeginAsync(old, "msg-3", "fp", null, CancellationToken.None);
        await BackdateAsync(old, "sent_at", TimeSpan.FromMinutes(20));
        await Journal.TryBeginAsync(Line("P11", "A"), "msg-4", "fp", null, CancellationToken.None);

        var health = await Store.ReadHealthAsync(CancellationToken.None);

        Assert.Equal((2L, 2L), (health.Unknown, health.Open));
        Assert.InRange(health.OldestOpenAge!.Value, TimeSpan.FromMinutes(19.9), TimeSpan.FromMinutes(21));
    }

    [StoreFact]
    public async Task The_Bridge_meter_reports_the_Unknown_effects_and_the_age_of_the_oldest_open_one()
    {
        await UnknownAsync(Line("M1", "A"), "msg-1");
        var open = Line("M2", "A");
        await Journal.TryBeginAsync(open, "msg-2", "fp", null, CancellationToken.None);
        await BackdateAsync(open, "sent_at", TimeSpan.FromMinutes(15));
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new EffectMetrics(services.GetRequiredService<IMeterFactory>());
        var maintenance = new EffectMaintenance(Store, metrics, Options.Create(new EffectOptions()), TimeProvider.System, NullLogger<EffectMaintenance>.Instance);
        var measured = new Dictionary<string, double>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, meterListener) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name.StartsWith("bridge.effects.", StringComparison.Ordinal))
                {
                    meterListener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => measured[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => measured[instrument.Name] = value);
        listener.Start();

        listener.RecordObservableInstruments();
        Assert.Equal((0, 0), (measured["bridge.effects.unknown"], measured["bridge.effects.oldest_open_age"]));
        await maintenance.RefreshAsync(CancellationToken.None);
        listener.RecordObservableInstruments();

        Assert.Equal("Bridge", metrics.Meter.Name);
        Assert.Equal((1, 1), (measured["bridge.effects.unknown"], measured["bridge.effects.open"]));
        Assert.InRange(measured["bridge.effects.oldest_open_age"], 14.9 * 60, 16 * 60);
    }

    [StoreFact]
    public async Task Purge_takes_resolved_effects_past_retention_one_batch_at_a_time_and_never_an_Unknown_or_open_one()
    {
        var due = new List<EffectId>();
        for (var i = 0; i < 2 * BatchSize + 1; i++)
        {
            var id = Line($"D{i}", "A");
            var attempt = await Journal.TryBeginAsync(id, $"msg-d{i}", "fp", null, CancellationToken.None);
            await Journal.ResolveAsync(id, attempt!, i % 2 == 0 ? EffectState.Applied : EffectState.NotApplied, i % 2 == 0 ? $"c-{i}" : null, null, CancellationToken.None);
            await Store.AuditAsync(id.Hash, new EffectAction("op", "Resolve", "Applied"), CancellationToken.None);
            due.Add(id);
        }

        var oldUnknown = await UnknownAsync(Line("U1", "A"), "msg-u");
        var oldOpen = Line("O1", "A");
        await Journal.TryBeginAsync(oldOpen, "msg-o", "fp", null, CancellationToken.None);
        var recent = Line("R1", "A");
        await Journal.ResolveAsync(recent, (await Journal.TryBeginAsync(recent, "msg-r", "fp", null, CancellationToken.None))!, EffectState.Applied, "c-r", null, CancellationToken.None);
        foreach (var id in due.Append(oldUnknown).Append(oldOpen))
        {
            await BackdateAsync(id, "updated_at", TimeSpan.FromDays(100));
            await BackdateAsync(id, "sent_at", TimeSpan.FromDays(100));
        }

        var cutoff = DateTimeOffset.UtcNow - TimeSpan.FromDays(90);
        var store = new SqlEffectAdminStore(new SmallBatchDatabase(Fixture.Database, BatchSize));
        Assert.Equal(BatchSize, await PurgeOneBatchAsync(cutoff));
        var purged = await store.PurgeAsync(cutoff, CancellationToken.None);

        Assert.Equal(due.Count - BatchSize, purged);
        foreach (var id in due)
        {
            Assert.Null(await store.GetAsync(id.Hash, CancellationToken.None));
        }

        Assert.Equal(EffectState.Unknown, (await store.GetAsync(oldUnknown.Hash, CancellationToken.None))!.Effect.Entry.State);
        Assert.Equal(EffectState.Sending, (await store.GetAsync(oldOpen.Hash, CancellationToken.None))!.Effect.Entry.State);
        Assert.NotNull(await store.GetAsync(recent.Hash, CancellationToken.None));
        Assert.Equal(0, await store.PurgeAsync(cutoff, CancellationToken.None));
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {Fixture.Table("effect_audit")};"));
    }

    private async Task<int> PurgeOneBatchAsync(DateTimeOffset cutoff)
    {
        object olderThan = Fixture.Dialect == SqlDialect.Sqlite ? cutoff.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'") : cutoff;
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteAsync(EffectJournalSql.For(Fixture.Dialect).Purge, new { OlderThan = olderThan, BatchSize });
    }

    private async Task<EffectId> UnknownAsync(EffectId id, string owner)
    {
        var attempt = await Journal.TryBeginAsync(id, owner, "fp", """{"reason":"read back: cannot tell"}""", CancellationToken.None);
        await Journal.ResolveAsync(id, attempt!, EffectState.Unknown, null, """{"reason":"read back: cannot tell"}""", CancellationToken.None);
        return id;
    }

    /// <summary>Moves a time column of one effect back, as the database sees it.</summary>
    private async Task BackdateAsync(EffectId id, string column, TimeSpan by)
    {
        var minutes = (long)by.TotalMinutes;
        var earlier = Fixture.Dialect switch
        {
            SqlDialect.PostgreSql => $"{column} - interval '{minutes} minutes'",
            SqlDialect.Sqlite => $"strftime('%Y-%m-%dT%H:%M:%fZ', {column}, '-{minutes} minutes')",
            _ => $"DATEADD(minute, -{minutes}, {column})",
        };
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync($"UPDATE {Fixture.Table("effect_journal")} SET {column} = {earlier} WHERE effect_id = @Id;", new { Id = id.Hash });
    }

    /// <summary>The same database with another purge batch size.</summary>
    private sealed class SmallBatchDatabase(IBridgeDatabase inner, int purgeBatchSize) : IBridgeDatabase
    {
        public SqlDialect Dialect => inner.Dialect;

        public int PurgeBatchSize => purgeBatchSize;

        public Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => inner.OpenAsync(cancellationToken);

        public Task MigrateAsync(CancellationToken cancellationToken) => inner.MigrateAsync(cancellationToken);
    }
}

public sealed class PostgreSqlEffectAdminStoreTests(PostgreSqlStorageFixture fixture) : EffectAdminStoreTests<PostgreSqlStorageFixture>(fixture);

public sealed class SqliteEffectAdminStoreTests(SqliteStorageFixture fixture) : EffectAdminStoreTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerEffectAdminStoreTests(SqlServerStorageFixture fixture) : EffectAdminStoreTests<SqlServerStorageFixture>(fixture);

public sealed class EffectPurgeSqlServerTests
{
    /// <summary>The journal's purge, like every purge, deletes at most <c>@BatchSize</c> rows per statement (no table lock).</summary>
    [Fact]
    public void The_SQL_Server_purge_deletes_at_most_one_batch_of_resolved_effects_per_statement()
    {
        var sql = EffectJournalSql.For(SqlDialect.SqlServer).Purge;
        var fragment = new TSql160Parser(initialQuotedIdentifiers: true).Parse(new StringReader(sql), out var errors);
        Assert.Empty(errors);

        var delete = Assert.IsType<DeleteStatement>(Assert.Single(Assert.IsType<TSqlScript>(fragment).Batches.Single().Statements));
        var top = Assert.IsType<TopRowFilter>(delete.DeleteSpecification.TopRowFilter);
        Assert.False(top.Percent);
        var batch = top.Expression is ParenthesisExpression parenthesized ? parenthesized.Expression : top.Expression;
        Assert.Equal("@BatchSize", Assert.IsType<VariableReference>(batch).Name);
        Assert.Contains("N'Applied', N'NotApplied'", sql, StringComparison.Ordinal);
    }
}
