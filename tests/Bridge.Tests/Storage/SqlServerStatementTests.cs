using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.Effects;
using Bridge.Host.Hosting;
using Bridge.Host.Storage;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using Xunit;

namespace Bridge.Tests.Storage;

/// <summary>
/// No SQL Server engine runs on these machines, so every statement the SQL Server dialect sends is at least parsed by
/// Microsoft's own T-SQL parser (SQL Server 2022 grammar).
/// </summary>
public sealed class SqlServerStatementTests
{
    public static TheoryData<string, string> Statements()
    {
        var data = new TheoryData<string, string>();
        foreach (var script in MigrationRunner.LoadScripts(SqlDialect.SqlServer))
        {
            data.Add("migration " + script.Name, script.Sql);
        }

        foreach (var (name, sql) in SqlConcerns.Statements(SqlDialect.SqlServer))
        {
            data.Add(name, sql);
        }

        return data;
    }

    [Fact]
    public void Every_concern_class_and_its_purge_is_found()
    {
        Assert.NotEmpty(SqlConcerns.Types);
        Assert.Subset(
            new HashSet<Type>(SqlConcerns.Types),
            new HashSet<Type>
            {
                typeof(MigrationSql), typeof(IdempotencySql), typeof(DocumentStateSql), typeof(OutboxSql), typeof(DeadLetterSql),
                typeof(EffectJournalSql), typeof(ReplayJobSql), typeof(InstanceSql),
            });
        Assert.Subset(
            new HashSet<string>(PurgeNames()),
            new HashSet<string>
            {
                SqlConcerns.Name<IdempotencySql>(nameof(IdempotencySql.Purge)),
                SqlConcerns.Name<OutboxSql>(nameof(OutboxSql.PurgeDispatched)),
                SqlConcerns.Name<DeadLetterSql>(nameof(DeadLetterSql.Purge)),
                SqlConcerns.Name<EffectJournalSql>(nameof(EffectJournalSql.Purge)),
                SqlConcerns.Name<ReplayJobSql>(nameof(ReplayJobSql.Purge)),
            });
    }

    [Theory]
    [MemberData(nameof(Statements))]
    public void Statement_parses_as_one_TSql160_batch(string name, string sql)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);

        // A list parameter (IN @Ids) is expanded by Dapper into one parameter per item before it reaches the server.
        var sent = System.Text.RegularExpressions.Regex.Replace(sql, @"\bIN @(\w+)", "IN (@${1}1, @${1}2)");
        var fragment = parser.Parse(new StringReader(sent), out var errors);

        Assert.True(errors.Count == 0, $"{name}: " + string.Join("; ", errors.Select(error => $"line {error.Line}: {error.Message}")));
        // The runner sends each script as one command, which is only valid if it is a single batch.
        Assert.Single(Assert.IsType<TSqlScript>(fragment).Batches);
    }

    /// <summary>
    /// One DELETE over many rows escalates to a table lock that stalls every consumer: each purge deletes at most
    /// <c>@BatchSize</c> rows per statement, and its store repeats it until a batch comes back short.
    /// </summary>
    [Theory]
    [MemberData(nameof(Purges))]
    public void Purge_deletes_at_most_one_batch_per_statement(string name)
    {
        var sql = SqlConcerns.Statement(SqlDialect.SqlServer, name);
        var fragment = new TSql160Parser(initialQuotedIdentifiers: true).Parse(new StringReader(sql), out var errors);
        Assert.Empty(errors);

        var delete = Assert.IsType<DeleteStatement>(Assert.Single(Assert.IsType<TSqlScript>(fragment).Batches.Single().Statements));
        var top = Assert.IsType<TopRowFilter>(delete.DeleteSpecification.TopRowFilter);
        Assert.False(top.Percent);
        Assert.Equal("@BatchSize", Assert.IsType<VariableReference>(Unparenthesized(top.Expression)).Name);
    }

    public static TheoryData<string> Purges() => new(PurgeNames());

    /// <summary>Every concern's purge: each statement whose name begins with <c>Purge</c>.</summary>
    private static List<string> PurgeNames() =>
        SqlConcerns.Statements(SqlDialect.SqlServer)
            .Select(statement => statement.Name)
            .Where(name => name.Split('.')[1].StartsWith("Purge", StringComparison.Ordinal))
            .ToList();

    private static ScalarExpression Unparenthesized(ScalarExpression expression) =>
        expression is ParenthesisExpression parenthesis ? Unparenthesized(parenthesis.Expression) : expression;

    [Fact]
    public void Every_dialect_defines_the_same_statements()
    {
        var sqlServer = SqlConcerns.Statements(SqlDialect.SqlServer).Select(statement => statement.Name).ToList();
        string[] notOnSqlite = [SqlConcerns.Name<MigrationSql>(nameof(MigrationSql.AcquireLock)), SqlConcerns.Name<MigrationSql>(nameof(MigrationSql.EnsureSchema))];

        Assert.Equal(sqlServer, SqlConcerns.Statements(SqlDialect.PostgreSql).Select(statement => statement.Name));
        Assert.Equal(sqlServer.Except(notOnSqlite), SqlConcerns.Statements(SqlDialect.Sqlite).Select(statement => statement.Name));
        Assert.Equal(99, sqlServer.Count);
    }

    [Fact]
    public void Parser_reports_errors_so_a_passing_parse_means_something()
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);

        parser.Parse(new StringReader("UPDATE bridge.outbox_messages SET attempts = attempts + WHERE id = @Id;"), out var errors);

        Assert.NotEmpty(errors);
    }
}
