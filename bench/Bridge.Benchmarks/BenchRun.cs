using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Bridge.Chaos.Processes;
using Bridge.Chaos.Recording;
using Bridge.Sandbox;
using RabbitMQ.Client;

namespace Bridge.Benchmarks;

/// <summary>
/// One benchmark run: per scenario, a fresh database, a fresh sandbox (the project's, over HTTP on a loopback port, in this
/// process), N closing documents (or, for the mix, N messages of every flow, each on its own queue, with the sandbox state
/// they act on) preloaded into Bridge's input queues, then one Bridge started as its own process
/// (<c>dotnet bridge.dll</c>, as deployed and as the chaos suite runs it, so its CPU and memory are its own), measured until
/// every message has its result event; then the raw relay on the same broker with the same bodies, prefetch and concurrency.
/// </summary>
public sealed class BenchRun(BenchOptions options)
{
    public async Task<BenchReport> RunAsync(string command, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        Directory.CreateDirectory(options.WorkDirectory);
        var broker = Uri.TryCreate(Environment.GetEnvironmentVariable("BRIDGE_TEST_RABBITMQ"), UriKind.Absolute, out var uri)
            ? uri
            : throw new ArgumentException("BRIDGE_TEST_RABBITMQ must be the AMQP URI of a RabbitMQ (bench.sh sets it).");
        if (!File.Exists(options.BridgeDll))
        {
            throw new ArgumentException($"{options.BridgeDll} does not exist: build the solution first (bench.sh does).");
        }

        await using var connection = await Broker.ConnectAsync(broker, "bridge-bench", ct);
        var results = new List<ScenarioResult>();
        foreach (var scenario in options.Scenarios)
        {
            results.Add(await RunScenarioAsync(scenario, broker, connection, ct));
        }

        return new BenchReport(command, started, Environment.ProcessorCount, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            "separate process (dotnet bridge.dll)", results);
    }

    private async Task<ScenarioResult> RunScenarioAsync(ScenarioKind scenario, Uri broker, IConnection connection, CancellationToken ct)
    {
        var tag = RandomNumberGenerator.GetHexString(6, lowercase: true);
        var delayed = scenario is ScenarioKind.Latency or ScenarioKind.LatencyTwoInstances;
        var latencyMs = delayed ? options.LatencyMs : 0;
        var concurrency = delayed ? options.Concurrency : BenchOptions.DefaultConcurrency;
        var instances = scenario is ScenarioKind.TwoInstances or ScenarioKind.LatencyTwoInstances ? 2 : 1;
        var prefetch = Math.Max(BenchOptions.DefaultPrefetch, concurrency);
        var storageKind = scenario == ScenarioKind.Sqlite ? StorageKind.Sqlite : StorageKind.PostgreSql;
        var name = scenario switch
        {
            ScenarioKind.PostgreSql => "closing-documents/postgresql",
            ScenarioKind.Sqlite => "closing-documents/sqlite",
            ScenarioKind.Prefilled => string.Create(CultureInfo.InvariantCulture, $"closing-documents/postgresql/prefilled-{options.PrefillRows}"),
            ScenarioKind.TwoInstances => "closing-documents/postgresql/two-instances",
            ScenarioKind.Mix => "mix/postgresql",
            ScenarioKind.LatencyTwoInstances => string.Create(CultureInfo.InvariantCulture, $"closing-documents/postgresql/latency-{latencyMs}ms/c{concurrency}/two-instances"),
            _ => string.Create(CultureInfo.InvariantCulture, $"closing-documents/postgresql/latency-{latencyMs}ms/c{concurrency}"),
        };
        Say($"{name}: {options.Messages} messages, concurrency {concurrency}, prefetch {prefetch}{(instances > 1 ? $" in each of {instances} instances" : "")}");

        var queuePrefix = "bench" + tag;
        var storage = await StorageProbe.CreateAsync(storageKind, Environment.GetEnvironmentVariable("BRIDGE_TEST_POSTGRES"), options.WorkDirectory, "bridge_bench_" + tag, ct);
        try
        {
            await using var sandbox = await SandboxServer.StartAsync(
                new SandboxSettings { Faults = latencyMs > 0 ? [new FaultRule { LatencyMs = latencyMs }] : [] }, ct);
            IReadOnlyList<BenchMessage> messages;
            if (scenario == ScenarioKind.Mix)
            {
                var preparing = Stopwatch.StartNew();
                messages = await Mix.PrepareAsync(sandbox, tag, options.Messages, ct);
                Say($"{name}: {string.Join(", ", messages.GroupBy(m => m.Flow).OrderByDescending(g => g.Count()).ThenBy(g => Mix.Rank(g.Key)).Select(g => $"{g.Key} {g.Count()}"))}; the sandbox state they act on set up in {preparing.Elapsed.TotalSeconds:0.0} s");
            }
            else
            {
                messages = Workload.ClosingDocuments(tag, options.Messages);
            }

            // What the set-up asked of the sandbox's API is not Bridge's: only calls after this are counted.
            var callsBefore = (await sandbox.Control.GetCallsAsync(null, null, null, ct)).Count;
            await using var capture = await ResultCapture.StartAsync(connection, $"bench{tag}.results", messages.Select(m => m.MessageId), ct);
            if (scenario == ScenarioKind.Prefilled)
            {
                var filling = Stopwatch.StartNew();
                await Prefill.RunAsync(options.BridgeDll, storage, options.PrefillRows, options.WorkDirectory, ct);
                Say($"{name}: {options.PrefillRows} rows in each hot table ({filling.Elapsed.TotalSeconds:0} s)");
            }

            var published = await Workload.PreloadAsync(connection, queuePrefix, messages, ct);
            Say($"{name}: {messages.Count} preloaded; starting Bridge");

            // One Bridge process, or two on the same queue, database and sandbox; CPU is their sum, peak RSS the larger.
            var bridges = Enumerable.Range(0, instances)
                .Select(i => new BridgeProcess(instances == 1 ? "bridge-" + tag : $"bridge-{tag}-{i + 1}", options.BridgeDll, Settings(broker, queuePrefix, storage, sandbox.BaseAddress, concurrency, prefetch), options.WorkDirectory))
                .ToList();
            var bridge = bridges[0];
            var cpuAtReady = TimeSpan.Zero;
            var cpuAtEnd = TimeSpan.Zero;
            var answeredBeforeReady = 0;
            DatabaseCounters? countersAtReady;
            long peakRss = 0;
            MachineCpu machine = null!;
            CpuByProcess? cpuByProcess = null;

            // Resident memory (summed over the instances) when every message is waiting, then every few seconds to the end.
            var rss = new List<double>();
            try
            {
                await Task.WhenAll(bridges.Select(b => b.StartAsync(ct)));
                var pids = bridges.Select(b => b.ProcessId ?? throw new InvalidOperationException("Bridge exited right after it started: " + b.LogTail())).ToList();
                cpuAtReady = pids.Aggregate(TimeSpan.Zero, (sum, pid) => sum + ProcessMeter.CpuTime(pid));
                machine = MachineCpu.Start(pids);
                countersAtReady = await DatabaseCounters.ReadAsync(storage, settle: false, ct);

                // Bridge consumes before it answers ready: what it answered by then cost CPU and database work before the
                // counters were read, so the per-message figures divide by the messages answered after.
                answeredBeforeReady = capture.Count;
                var timeout = TimeSpan.FromSeconds(120 + (messages.Count * (0.05 + (latencyMs / 1000.0))));
                await WaitForAllAsync(capture, bridges, timeout, () =>
                {
                    rss.Add(Math.Round(pids.Sum(ProcessMeter.ResidentBytes) / (1024.0 * 1024.0), 1));
                    machine.Sample();
                }, ct);
                cpuAtEnd = pids.Aggregate(TimeSpan.Zero, (sum, pid) => sum + ProcessMeter.CpuTime(pid));
                cpuByProcess = machine.PerMessage(Math.Max(1, messages.Count - answeredBeforeReady));
                peakRss = pids.Max(ProcessMeter.PeakResidentBytes);
            }
            finally
            {
                await Task.WhenAll(bridges.Select(b => b.StopAsync(TimeSpan.FromSeconds(20))));
            }

            // Read once Bridge's connections are closed: a server process publishes its counts as it ends.
            var countersAtEnd = await DatabaseCounters.ReadAsync(storage, settle: true, ct);
            var calls = (await sandbox.Control.GetCallsAsync(null, null, null, ct)).Count - callsBefore;
            var events = capture.Events.Where(e => published.ContainsKey(e.MessageId)).ToList();
            var sentAs = messages.ToDictionary(m => m.MessageId, StringComparer.Ordinal);
            var first = events.Min(e => e.ReceivedAt);
            var last = events.Max(e => e.ReceivedAt);
            var seconds = (last - first).TotalSeconds;
            var rate = RawRelay.Rate(events.Count, seconds);
            Say($"{name}: Bridge {rate:0.0} msg/s; running the raw relay");

            // Every answer's times, for a look at how the lag moves through the run (not part of the figures).
            await File.WriteAllLinesAsync(
                Path.Combine(options.WorkDirectory, $"events-{name.Replace('/', '-')}.csv"),
                events.OrderBy(e => e.ReceivedAt).Select(e => FormattableString.Invariant(
                    $"{e.MessageId},{e.Type},{(published[e.MessageId] - first).TotalMilliseconds:0.0},{(e.OccurredAt - first).TotalMilliseconds:0.0},{(e.ReceivedAt - first).TotalMilliseconds:0.0}"))
                    .Prepend("messageId,type,publishedMs,occurredMs,receivedMs"),
                ct);

            var relay = await RawRelay.RunAsync(connection, tag, messages, prefetch, concurrency, TimeSpan.FromMinutes(10), ct);
            var callsPerMessage = (double)calls / messages.Count;
            var measured = Math.Max(1, messages.Count - answeredBeforeReady);
            return new ScenarioResult
            {
                Name = name,
                Storage = storage.Provider,
                SandboxLatencyMs = latencyMs,
                Concurrency = concurrency,
                Prefetch = prefetch,
                Messages = messages.Count,
                BodyBytes = (int)messages.Average(m => m.Body.Length),
                Events = events.Count,
                Sent = events.Count(e => e.Type == sentAs[e.MessageId].Expects),
                EventTypes = events.GroupBy(e => e.Type).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
                Flows = messages.GroupBy(m => m.Flow).OrderByDescending(g => g.Count()).ThenBy(g => Mix.Rank(g.Key)).ToDictionary(
                    g => g.Key,
                    g =>
                    {
                        var answers = events.Where(e => sentAs[e.MessageId].Flow == g.Key).ToList();
                        return new FlowResult(
                            g.Count(),
                            answers.Count(e => e.Type == g.First().Expects),
                            answers.GroupBy(e => e.Type).ToDictionary(t => t.Key, t => t.Count(), StringComparer.Ordinal),
                            Percentiles.Of(answers.Select(e => (e.ReceivedAt - published[e.MessageId]).TotalMilliseconds)),
                            Percentiles.Of(answers.Select(e => (e.ReceivedAt - e.OccurredAt).TotalMilliseconds)));
                    },
                    StringComparer.Ordinal),
                MessagesPerSecond = rate,
                Seconds = seconds,
                EndToEndLatencyMs = Percentiles.Of(events.Select(e => (e.ReceivedAt - published[e.MessageId]).TotalMilliseconds)),
                OutboxDispatchLagMs = Percentiles.Of(events.Select(e => (e.ReceivedAt - e.OccurredAt).TotalMilliseconds)),
                ActivePlatformCalls = calls,
                ActivePlatformCallsPerMessage = callsPerMessage,
                AnsweredBeforeReady = answeredBeforeReady,
                BridgeCpuMsPerMessage = (cpuAtEnd - cpuAtReady).TotalMilliseconds / measured,
                CpuMsPerMessage = cpuByProcess,
                BridgePeakRssMb = peakRss / (1024.0 * 1024.0),
                DatabaseTransactionsPerMessage = countersAtEnd is null || countersAtReady is null ? null : (double)(countersAtEnd.Transactions - countersAtReady.Transactions) / measured,
                WalFlushesPerMessage = countersAtEnd is null || countersAtReady is null ? null : (double)(countersAtEnd.WalFlushes - countersAtReady.WalFlushes) / measured,
                Relay = relay,
                BridgeToRelay = relay.MessagesPerSecond > 0 ? rate / relay.MessagesPerSecond : 0,
                Bound = latencyMs > 0 && callsPerMessage > 0
                    ? Bound(latencyMs, concurrency * instances, callsPerMessage, rate)
                    : null,
                BridgeLog = string.Join(" ", bridges.Select(b => b.CurrentLog ?? "")),
                Instances = instances,
                BridgeRssMb = rss,
            };
        }
        finally
        {
            try
            {
                await storage.DropAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Say($"could not drop the scenario's database: {ex.Message}");
            }
        }
    }

    private static ConcurrencyBound Bound(int latencyMs, int concurrency, double callsPerMessage, double rate)
    {
        var bound = concurrency / (latencyMs / 1000.0 * callsPerMessage);
        return new ConcurrencyBound(latencyMs, concurrency, callsPerMessage, bound, rate / bound);
    }

    /// <summary>Waits until every message has its result event, failing early when Bridge exits and with progress while it works.</summary>
    private static async Task WaitForAllAsync(ResultCapture capture, IReadOnlyList<BridgeProcess> bridges, TimeSpan timeout, Action sample, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        sample();
        while (!capture.AllReceived.IsCompleted)
        {
            if (bridges.FirstOrDefault(b => !b.IsRunning) is { } bridge)
            {
                throw new InvalidOperationException($"Bridge exited with code {bridge.ExitCode} after {capture.Count} result events:{Environment.NewLine}{bridge.LogTail()}");
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"only {capture.Count} result events after {timeout.TotalSeconds:0}s; Bridge's log: {bridges[0].CurrentLog}{Environment.NewLine}{bridges[0].LogTail()}");
            }

            await Task.WhenAny(capture.AllReceived, Task.Delay(TimeSpan.FromSeconds(5), ct));
            sample();
        }

        if (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            sample(); // at the end of a run too short for the loop to sample
        }
    }

    private static Dictionary<string, string> Settings(Uri broker, string queuePrefix, StorageProbe storage, Uri sandbox, int concurrency, int prefetch) => new(StringComparer.Ordinal)
    {
        ["Bridge__Storage__Provider"] = storage.Provider,
        ["Bridge__Storage__ConnectionString"] = storage.ConnectionString,
        ["Bridge__Messaging__Transport"] = "RabbitMq",
        ["Bridge__Messaging__RabbitMqUri"] = broker.ToString(),
        ["Bridge__Messaging__QueuePrefix"] = queuePrefix,
        ["Bridge__Messaging__ConcurrentMessageLimit"] = concurrency.ToString(CultureInfo.InvariantCulture),
        ["Bridge__Messaging__PrefetchCount"] = prefetch.ToString(CultureInfo.InvariantCulture),
        ["ActivePlatform__BaseUrl"] = sandbox.ToString(),
        ["ActivePlatform__ApiToken"] = SandboxSettings.DefaultToken,
        ["ActivePlatform__ResellerId"] = "1",
    };

    private static void Say(string text) => Console.Error.WriteLine($"bench: {text}");
}

/// <summary>PostgreSQL's own counts of the scenario database's transactions and the server's WAL flushes.</summary>
internal sealed record DatabaseCounters(long Transactions, long WalFlushes)
{
    /// <summary>The name the benchmark's own readings connect under, so they are not taken for Bridge's connections.</summary>
    private const string ReaderName = "bridge-bench-counters";

    /// <summary>
    /// Null for SQLite. With <paramref name="settle"/>, first waits (at most a minute) until no other client is connected to
    /// the scenario database: a server process publishes its counts when it goes idle — at most once a second, later when
    /// the statistics are contended — and for good as it ends, before it leaves <c>pg_stat_activity</c>. Two equal readings
    /// half a second apart were not enough: CI once read 0.69 transactions per message that way.
    /// </summary>
    public static async Task<DatabaseCounters?> ReadAsync(StorageProbe storage, bool settle, CancellationToken ct)
    {
        if (storage.Kind != StorageKind.PostgreSql)
        {
            return null;
        }

        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder(storage.ConnectionString)
        {
            ApplicationName = ReaderName,
            Pooling = false,
        }.ConnectionString;
        if (settle)
        {
            // The benchmark's own idle pooled connections (the prefill's) would count as clients.
            Npgsql.NpgsqlConnection.ClearAllPools();
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (await OtherClientsAsync(connectionString, ct) > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
            }
        }

        return await ReadOnceAsync(connectionString, ct);
    }

    private static async Task<long> OtherClientsAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> @reader",
            connection);
        command.Parameters.AddWithValue("reader", ReaderName);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task<DatabaseCounters> ReadOnceAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()), (SELECT wal_sync FROM pg_stat_wal)",
            connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new DatabaseCounters(reader.GetInt64(0), reader.GetInt64(1));
    }
}
