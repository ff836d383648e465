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

        foreach (var (name, sql) in SqlStatements.SqlServer.All)
        {
            data.Add(name, sql);
        }

        // Statements kept beside their feature, the three dialects side by side.
        foreach (var property in typeof(Bridge.Host.DeadLetters.Replay.ReplayJobSql).GetProperties().Where(p => p.PropertyType == typeof(string)))
        {
            data.Add("replay jobs: " + property.Name, (string)property.GetValue(Bridge.Host.DeadLetters.Replay.ReplayJobSql.SqlServer)!);
        }

        foreach (var property in typeof(Bridge.Host.Hosting.InstanceSql).GetProperties().Where(p => p.PropertyType == typeof(string)))
        {
            data.Add("instances: " + property.Name, (string)property.GetValue(Bridge.Host.Hosting.InstanceSql.SqlServer)!);
        }

        return data;
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
    [InlineData(nameof(SqlStatements.IdempotencyPurge))]
    [InlineData(nameof(SqlStatements.OutboxPurgeDispatched))]
    [InlineData(nameof(SqlStatements.DeadLetterPurge))]
    public void Purge_deletes_at_most_one_batch_per_statement(string name)
    {
        var sql = SqlStatements.SqlServer.All.Single(statement => statement.Key == name).Value;
        var fragment = new TSql160Parser(initialQuotedIdentifiers: true).Parse(new StringReader(sql), out var errors);
        Assert.Empty(errors);

        var delete = Assert.IsType<DeleteStatement>(Assert.Single(Assert.IsType<TSqlScript>(fragment).Batches.Single().Statements));
        var top = Assert.IsType<TopRowFilter>(delete.DeleteSpecification.TopRowFilter);
        Assert.False(top.Percent);
        Assert.Equal("@BatchSize", Assert.IsType<VariableReference>(Unparenthesized(top.Expression)).Name);
    }

    private static ScalarExpression Unparenthesized(ScalarExpression expression) =>
        expression is ParenthesisExpression parenthesis ? Unparenthesized(parenthesis.Expression) : expression;

    [Fact]
    public void Every_dialect_defines_the_same_statements()
    {
        var sqlServer = SqlStatements.SqlServer.All.Select(statement => statement.Key).ToList();

        Assert.Equal(sqlServer, SqlStatements.PostgreSql.All.Select(statement => statement.Key));
        Assert.Equal(
            sqlServer.Where(name => name is not (nameof(SqlStatements.AcquireMigrationLock) or nameof(SqlStatements.EnsureMigrationSchema))),
            SqlStatements.Sqlite.All.Select(statement => statement.Key));
        Assert.Equal(43, sqlServer.Count);
    }

    [Fact]
    public void Parser_reports_errors_so_a_passing_parse_means_something()
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);

        parser.Parse(new StringReader("UPDATE bridge.outbox_messages SET attempts = attempts + WHERE id = @Id;"), out var errors);

        Assert.NotEmpty(errors);
    }
}
