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

        return data;
    }

    [Theory]
    [MemberData(nameof(Statements))]
    public void Statement_parses_as_one_TSql160_batch(string name, string sql)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);

        var fragment = parser.Parse(new StringReader(sql), out var errors);

        Assert.True(errors.Count == 0, $"{name}: " + string.Join("; ", errors.Select(error => $"line {error.Line}: {error.Message}")));
        // The runner sends each script as one command, which is only valid if it is a single batch.
        Assert.Single(Assert.IsType<TSqlScript>(fragment).Batches);
    }

    [Fact]
    public void Every_dialect_defines_the_same_statements()
    {
        var sqlServer = SqlStatements.SqlServer.All.Select(statement => statement.Key).ToList();

        Assert.Equal(sqlServer, SqlStatements.PostgreSql.All.Select(statement => statement.Key));
        Assert.Equal(
            sqlServer.Where(name => name is not (nameof(SqlStatements.AcquireMigrationLock) or nameof(SqlStatements.EnsureMigrationSchema))),
            SqlStatements.Sqlite.All.Select(statement => statement.Key));
        Assert.Equal(38, sqlServer.Count);
    }

    [Fact]
    public void Parser_reports_errors_so_a_passing_parse_means_something()
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);

        parser.Parse(new StringReader("UPDATE bridge.outbox_messages SET attempts = attempts + WHERE id = @Id;"), out var errors);

        Assert.NotEmpty(errors);
    }
}
