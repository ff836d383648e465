using System.Text.RegularExpressions;
using Bridge.Host.Effects;
using Bridge.Host.Storage;
using Npgsql;

namespace Bridge.Tests.Storage;

/// <summary>
/// Every statement on the hot path of a message finds its rows through an index, on PostgreSQL as Bridge sends it (strings
/// as text parameters). Asserted on the plan with sequential scans made as dear as they go: a statement that can use an
/// index then does, one that cannot still scans. With a million rows in the journal, a scan per lookup cost seconds per
/// message (the effect id was char(64), which a text parameter cannot use the key of: ./bench.sh --scenarios prefilled).
/// </summary>
public sealed partial class QueryPlanTests(PostgreSqlStorageFixture fixture) : IClassFixture<PostgreSqlStorageFixture>
{
    private static readonly string[] HotStatements =
    [
        SqlConcerns.Name<IdempotencySql>(nameof(IdempotencySql.Insert)), SqlConcerns.Name<IdempotencySql>(nameof(IdempotencySql.Select)),
        SqlConcerns.Name<IdempotencySql>(nameof(IdempotencySql.Complete)), SqlConcerns.Name<IdempotencySql>(nameof(IdempotencySql.SelectMarkedForDocument)),
        SqlConcerns.Name<DocumentStateSql>(nameof(DocumentStateSql.Claim)), SqlConcerns.Name<DocumentStateSql>(nameof(DocumentStateSql.Renew)),
        SqlConcerns.Name<DocumentStateSql>(nameof(DocumentStateSql.Release)), SqlConcerns.Name<DocumentStateSql>(nameof(DocumentStateSql.Select)),
        SqlConcerns.Name<DocumentStateSql>(nameof(DocumentStateSql.SetApplied)),
        SqlConcerns.Name<OutboxSql>(nameof(OutboxSql.Claim)), SqlConcerns.Name<OutboxSql>(nameof(OutboxSql.MarkDispatched)),
        SqlConcerns.Name<OutboxSql>(nameof(OutboxSql.Backlog)),
        Journal(nameof(EffectJournalSql.SelectById)), Journal(nameof(EffectJournalSql.SelectOpen)), Journal(nameof(EffectJournalSql.Restart)),
        Journal(nameof(EffectJournalSql.SetAsyncTask)), Journal(nameof(EffectJournalSql.Resolve)), Journal(nameof(EffectJournalSql.CountOwners)),
    ];

    public static TheoryData<string> Statements() => new(HotStatements);

    [Theory]
    [MemberData(nameof(Statements))]
    public async Task A_hot_statement_reads_through_an_index(string name)
    {
        var sql = SqlConcerns.Statement(SqlDialect.PostgreSql, name);
        await using var connection = (NpgsqlConnection)await fixture.Database.OpenAsync(CancellationToken.None);
        await using (var discourage = new NpgsqlCommand("SET enable_seqscan = off;", connection))
        {
            await discourage.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand("EXPLAIN " + sql.TrimEnd().TrimEnd(';'), connection);
        foreach (Match parameter in Parameter().Matches(sql))
        {
            var parameterName = parameter.Groups[1].Value;
            if (!explain.Parameters.Contains(parameterName))
            {
                explain.Parameters.AddWithValue(parameterName, Sample(parameterName));
            }
        }

        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        Assert.True(plan.Count > 0, name);
        Assert.DoesNotContain(plan, line => line.Contains("Seq Scan", StringComparison.Ordinal));

        // A journal statement that names its effect reads it by its key, not through another index (all open effects, all
        // that did not happen, ...). (The other tables' plans on an empty database may pick any index that fits.)
        if (Expected.GetValueOrDefault(name) is { } index)
        {
            Assert.True(plan.Exists(line => line.Contains(index, StringComparison.Ordinal)), $"{name} does not use {index}: {string.Join(" / ", plan)}");
        }
    }

    private static readonly Dictionary<string, string> Expected = new(StringComparer.Ordinal)
    {
        [Journal(nameof(EffectJournalSql.SelectById))] = "pk_effect_journal",
        [Journal(nameof(EffectJournalSql.Restart))] = "pk_effect_journal",
        [Journal(nameof(EffectJournalSql.SetAsyncTask))] = "pk_effect_journal",
        [Journal(nameof(EffectJournalSql.Resolve))] = "pk_effect_journal",
        [Journal(nameof(EffectJournalSql.SelectOpen))] = "ux_effect_journal_open_group",
        [Journal(nameof(EffectJournalSql.CountOwners))] = "ux_effect_journal_resource",
    };

    private static string Journal(string property) => SqlConcerns.Name<EffectJournalSql>(property);

    /// <summary>A value of the type Bridge binds for a parameter of that name.</summary>
    private static object Sample(string name) => name switch
    {
        "Ids" => new[] { Guid.NewGuid() },
        "Id" => Guid.NewGuid(),
        "Now" or "CreatedAt" or "SentAt" => DateTimeOffset.UtcNow,
        "Deleted" => false,
        "Attempts" or "BatchSize" => 1,
        _ when name.EndsWith("Milliseconds", StringComparison.Ordinal) || name.EndsWith("Ms", StringComparison.Ordinal) => 1000L,
        _ => "x",
    };

    [GeneratedRegex(@"@(\w+)")]
    private static partial Regex Parameter();
}
