using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Bridge.Host.Storage;
using Bridge.Tests.Infrastructure;
using Bridge.Tests.Pipeline;
using Dapper;
using Npgsql;

namespace Bridge.Tests.Hosting;

/// <summary>
/// Bridge started while its database cannot be reached (a server still starting, a failover, the chaos suite's PostgreSQL
/// restart): it waits for it instead of crashing, and gives up with a clear error after <c>Bridge:Storage:StartupWait</c>.
/// </summary>
public sealed class DatabaseStartupTests
{
    private const string Password = "startup-db-secret-pw";

    [Fact]
    public async Task A_database_that_never_answers_stops_the_start_after_the_wait_with_an_error_naming_the_setting_and_not_the_password()
    {
        await using var gate = TcpGate.Start(target: null);
        var settings = Settings($"Host=127.0.0.1;Port={gate.Port};Database=bridge;Username=bridge;Password={Password};Timeout=5");
        settings["Bridge:Storage:StartupWait"] = "00:00:01";

        var failure = await Assert.ThrowsAsync<DatabaseUnreachableException>(() => BridgeInstance.StartAsync(settings));

        Assert.Contains("Bridge:Storage:StartupWait", failure.Message, StringComparison.Ordinal);
        Assert.Equal(SqlDialect.PostgreSql, failure.Provider);
        Assert.DoesNotContain(Password, failure.ToString(), StringComparison.Ordinal);
        Assert.True(gate.Refused >= 2, $"start-up tried {gate.Refused} time(s); it should retry within the wait");
    }

    [Fact]
    public async Task A_database_that_comes_up_during_the_start_is_migrated_and_Bridge_starts()
    {
        var server = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString);
        var name = $"bridge_startup_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(server.ConnectionString))
        {
            await admin.ExecuteAsync($"CREATE DATABASE \"{name}\";");
        }

        try
        {
            await using var gate = TcpGate.Start(new IPEndPoint(IPAddress.Parse(Resolve(server.Host!)), server.Port));
            var through = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Host = "127.0.0.1", Port = gate.Port, Database = name, Pooling = false };
            var settings = Settings(through.ConnectionString);
            settings["Bridge:Storage:StartupWait"] = "00:05:00";

            var starting = BridgeInstance.StartAsync(settings);
            // The database "comes up" after Bridge has been refused twice: an event, not a delay.
            await gate.WaitForRefusalsAsync(2);
            Assert.False(starting.IsCompleted);
            gate.Open();

            await using var bridge = await starting;
            await using var connection = new NpgsqlConnection(through.ConnectionString);
            var migrations = await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM bridge.schema_versions");
            Assert.True(migrations > 0);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(server.ConnectionString);
            await admin.ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE);");
        }
    }

    private static Dictionary<string, string?> Settings(string connectionString) => new()
    {
        ["Bridge:Messaging:Transport"] = "InMemory",
        ["Bridge:Storage:Provider"] = "PostgreSql",
        ["Bridge:Storage:ConnectionString"] = connectionString,
        ["ActivePlatform:BaseUrl"] = "http://127.0.0.1:9/",
        ["ActivePlatform:ApiToken"] = "startup-secret-token",
        ["ActivePlatform:ResellerId"] = "1",
    };

    private static string Resolve(string host) =>
        host is "localhost" ? "127.0.0.1" : IPAddress.TryParse(host, out _) ? host : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork).ToString();

    /// <summary>
    /// A TCP port that drops every connection while closed (the client sees its server go away) and, once opened, forwards
    /// to <c>target</c>. Counts the refusals, so a test can wait for the client's attempts instead of sleeping.
    /// </summary>
    private sealed class TcpGate : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly IPEndPoint? _target;
        private readonly CancellationTokenSource _stop = new();
        private readonly Channel<int> _refusals = Channel.CreateUnbounded<int>();
        private readonly List<Task> _pipes = [];
        private readonly Task _accepting;
        private volatile bool _open;
        private int _refused;

        private TcpGate(IPEndPoint? target)
        {
            _target = target;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public static TcpGate Start(IPEndPoint? target) => new(target);

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Refused => Volatile.Read(ref _refused);

        public void Open() => _open = _target is not null;

        public async Task WaitForRefusalsAsync(int count)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (Refused < count)
            {
                await _refusals.Reader.ReadAsync(deadline.Token);
            }
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }

                if (!_open)
                {
                    client.Client.LingerState = new LingerOption(true, 0); // reset, as a dead server's port answers
                    client.Dispose();
                    _refusals.Writer.TryWrite(Interlocked.Increment(ref _refused));
                    continue;
                }

                lock (_pipes)
                {
                    _pipes.Add(ForwardAsync(client));
                }
            }
        }

        private async Task ForwardAsync(TcpClient client)
        {
            using (client)
            using (var upstream = new TcpClient())
            {
                try
                {
                    await upstream.ConnectAsync(_target!, _stop.Token);
                    var a = client.GetStream();
                    var b = upstream.GetStream();
                    await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                }
                catch (IOException)
                {
                }
                catch (SocketException)
                {
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            Task[] pipes;
            lock (_pipes)
            {
                pipes = [.. _pipes];
            }

            await Task.WhenAll(pipes);
            _stop.Dispose();
        }
    }
}
