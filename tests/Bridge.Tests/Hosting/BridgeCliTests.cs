using System.Net;
using System.Net.Sockets;
using System.Text;
using Bridge.Host.Cli;
using Bridge.Host.Storage;
using Bridge.Tests.DeadLetters;
using Bridge.Tests.Pipeline;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Bridge.Tests.Hosting;

/// <summary>
/// The <c>bridge</c> command line as a whole: the root's commands, help and version, what starts the service, <c>migrate</c>
/// and <c>Bridge:Storage:MigrateOnStart</c>, and the documented exit codes.
/// </summary>
public sealed class BridgeCliTests
{
    [Fact]
    public async Task Help_names_every_command_and_the_exit_codes_and_exits_0()
    {
        var (exit, output, error) = await RunAsync(["--help"]);

        Assert.Equal(0, exit);
        Assert.Empty(error);
        foreach (var command in new[] { "serve", "migrate", "dead-letters", "effects" })
        {
            Assert.Contains(command, output, StringComparison.Ordinal);
        }

        Assert.Contains("3 database unreachable", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("migrate")]
    public async Task Help_on_a_command_prints_its_usage_without_running_it(string command)
    {
        var served = false;
        var (exit, output, _) = await RunAsync([command, "--help"], serve: (_, _) =>
        {
            served = true;
            return Task.FromResult(0);
        });

        Assert.Equal(0, exit);
        Assert.False(served);
        Assert.Contains($"bridge {command}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_version_and_exits_0()
    {
        var (exit, output, _) = await RunAsync(["--version"]);

        Assert.Equal(0, exit);
        Assert.Matches(@"^\d+\.\d+", output.Trim());
    }

    [Theory]
    [InlineData("serv")]
    [InlineData("dead-leters")]
    public async Task An_unknown_command_is_bad_usage_naming_it(string command)
    {
        var (exit, _, error) = await RunAsync([command]);

        Assert.Equal(BridgeCli.BadUsage, exit);
        Assert.Contains(command, error, StringComparison.Ordinal);
        Assert.Contains("usage: bridge", error, StringComparison.Ordinal);
    }

    public static readonly TheoryData<string[], string[]> ServeArguments = new()
    {
        { [], [] },
        { ["--urls", "http://127.0.0.1:5099"], ["--urls", "http://127.0.0.1:5099"] },
        { ["--Bridge:Storage:Provider=Sqlite"], ["--Bridge:Storage:Provider=Sqlite"] },
        { ["serve", "--Bridge:Storage:Provider=Sqlite", "--urls", "http://127.0.0.1:5099"], ["--Bridge:Storage:Provider=Sqlite", "--urls", "http://127.0.0.1:5099"] },
    };

    [Theory]
    [MemberData(nameof(ServeArguments))]
    public async Task No_command_or_configuration_switches_alone_serve_with_those_switches(string[] args, string[] expected)
    {
        string[]? given = null;
        var (exit, _, error) = await RunAsync(args, serve: (configuration, _) =>
        {
            given = configuration;
            return Task.FromResult(0);
        });

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Equal(expected, given);
    }

    [Fact]
    public async Task Migrate_applies_every_migration_once_and_then_says_the_schema_is_up_to_date()
    {
        using var scratch = ScratchDirectory.Create("bridge-migrate-");
        var file = Path.Combine(scratch.Path, "bridge.db");
        string[] args = ["migrate", "--Bridge:Storage:Provider=Sqlite", $"--Bridge:Storage:ConnectionString=Data Source={file}"];

        var (exit, output, error) = await RunAsync(args);

        Assert.True(exit == 0, error);
        var scripts = MigrationRunner.LoadScripts(SqlDialect.Sqlite);
        Assert.Contains($"applied {scripts.Count} migration(s)", output, StringComparison.Ordinal);
        await using (var connection = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            Assert.Equal(scripts.Count, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_versions"));
        }

        (exit, output, _) = await RunAsync(args);
        Assert.Equal(0, exit);
        Assert.Contains("up to date", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_with_an_invalid_setting_names_it_and_exits_2()
    {
        var (exit, _, error) = await RunAsync(["migrate", "--Bridge:Storage:Provider=Oracle"]);

        Assert.Equal(BridgeCli.BadUsage, exit);
        Assert.Contains("Bridge:Storage:Provider", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_against_an_unreachable_database_exits_3_without_the_password()
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now: connection refused

        var (exit, _, error) = await RunAsync(
        [
            "migrate", "--Bridge:Storage:Provider=PostgreSql", "--Bridge:Storage:StartupWait=00:00:01",
            $"--Bridge:Storage:ConnectionString=Host=127.0.0.1;Port={port};Database=bridge;Username=bridge;Password=migrate-secret-pw",
        ]);

        Assert.Equal(BridgeCli.DatabaseNotReady, exit);
        Assert.Contains("Bridge:Storage:StartupWait", error, StringComparison.Ordinal);
        Assert.DoesNotContain("migrate-secret-pw", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_migrate_on_start_off_the_service_refuses_a_schema_behind_and_starts_once_migrate_ran()
    {
        using var scratch = ScratchDirectory.Create("bridge-migrate-");
        var file = Path.Combine(scratch.Path, "bridge.db");
        var settings = new Dictionary<string, string?>
        {
            ["Bridge:Messaging:Transport"] = "InMemory",
            ["Bridge:Storage:Provider"] = "Sqlite",
            ["Bridge:Storage:ConnectionString"] = $"Data Source={file}",
            ["Bridge:Storage:MigrateOnStart"] = "false",
            ["ActivePlatform:BaseUrl"] = "http://127.0.0.1:9/",
            ["ActivePlatform:ApiToken"] = "migrate-test-token",
            ["ActivePlatform:ResellerId"] = "1",
        };

        var behind = await Assert.ThrowsAsync<SchemaBehindException>(() => BridgeInstance.StartAsync(settings));
        Assert.Equal(MigrationRunner.LoadScripts(SqlDialect.Sqlite).Count, behind.Pending.Count);
        Assert.Contains("bridge migrate", behind.Message, StringComparison.Ordinal);

        var (exit, _, error) = await RunAsync(["migrate", "--Bridge:Storage:Provider=Sqlite", $"--Bridge:Storage:ConnectionString=Data Source={file}"]);
        Assert.True(exit == 0, error);

        await using var bridge = await BridgeInstance.StartAsync(settings);
    }

    [Fact]
    public async Task Replay_all_dry_run_counts_what_it_would_replay_and_replays_nothing()
    {
        using var calls = new RecordingHandler(_ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("""{"items":[],"page":1,"pageSize":1,"total":42}""", Encoding.UTF8, "application/json"),
        });

        var (exit, output, _) = await DeadLetterCliParsingTests.RunAsync(calls, "replay", "--all", "--dry-run", "--type", "CompletePayment");

        Assert.Equal(0, exit);
        var request = Assert.Single(calls.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/admin/dead-letters?messageType=CompletePayment&status=Pending&pageSize=1", request.PathAndQuery);
        Assert.Contains("dry run: 42 Pending dead letter(s) match; nothing was replayed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_all_dry_run_needs_no_confirmation_but_refuses_wait()
    {
        using var calls = new RecordingHandler();

        var (exit, _, error) = await DeadLetterCliParsingTests.RunAsync(calls, "replay", "--all", "--dry-run", "--wait");

        Assert.Equal(BridgeCli.BadUsage, exit);
        Assert.Contains("--wait", error, StringComparison.Ordinal);
        Assert.DoesNotContain("--yes", error, StringComparison.Ordinal);
        Assert.Empty(calls.Requests);
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string[] args, BridgeCli.Serve? serve = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await BridgeCli.RunAsync(args, output, error, serve: serve);
        return (exit, output.ToString(), error.ToString());
    }
}
