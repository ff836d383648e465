using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Bridge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Bridge.Tests.Benchmarks;

/// <summary>
/// The benchmark publishes result events on the shared broker, under keys its own sandbox made up (a payment's number or
/// id) that another test's sandbox can make up too: it runs alone, never beside tests that wait for events by key (CI once
/// saw the mix's <c>PaymentCompleted</c> for payment 003006 counted by a dead-letter test's payment 003006; the tests'
/// sandboxes now number their payments elsewhere). It also reads PostgreSQL's statistics, which a busy machine flushes late:
/// run beside the other collections, a 20-message scenario read 0.95 transactions per message.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BenchmarkCollection
{
    public const string Name = "Benchmark smoke (runs alone)";
}

/// <summary>
/// The benchmark (<c>./bench.sh</c>, bench/Bridge.Benchmarks) is not a test and nothing here times anything: this runs it on
/// a handful of messages in every scenario, on what this test run built and the services it was given, so it never rots —
/// the run must end, every message must be answered, and the JSON must carry every figure the README describes.
/// </summary>
[Collection(BenchmarkCollection.Name)]
public sealed class BenchmarkSmokeTests(ITestOutputHelper output)
{
    private const int Messages = 20;

    /// <summary>Generous for a loaded machine: seven Bridge starts and a few dozen messages; the wait ends as soon as the run does.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(8);

    private static readonly string[] ScenarioFields =
    [
        "name", "storage", "sandboxLatencyMs", "concurrency", "prefetch", "messages", "bodyBytes", "events", "sent", "eventTypes",
        "messagesPerSecond", "seconds", "endToEndLatencyMs", "outboxDispatchLagMs", "activePlatformCalls", "activePlatformCallsPerMessage",
        "bridgeCpuMsPerMessage", "bridgePeakRssMb", "relay", "bridgeToRelay", "bridgeLog", "instances", "bridgeRssMb", "flows",
        "cpuMsPerMessage",
    ];

    private static readonly string[] CpuGroups = ["bridge", "postgreSql", "rabbitMq", "bench", "other", "machine"];

    /// <summary>Every ERP command and the result event that means it succeeded: the mix must send each and see each succeed.</summary>
    private static readonly Dictionary<string, string> SuccessOf = new(StringComparer.Ordinal)
    {
        ["SendClosingDocument"] = "ClosingDocumentSent",
        ["DeleteClosingDocument"] = "ClosingDocumentDeleted",
        ["NotifyClosingDocuments"] = "ClosingDocumentsNotified",
        ["CompletePayment"] = "PaymentCompleted",
        ["RegisterPayment"] = "PaymentRegistered",
        ["CancelPayment"] = "PaymentCancelled",
        ["UpdateCurrencyRates"] = "CurrencyRatesUpdated",
        ["CreateCorrection"] = "CorrectionCreated",
        ["ApproveCorrection"] = "CorrectionApproved",
        ["DeclineCorrection"] = "CorrectionDeclined",
        ["ApproveInvoice"] = "InvoiceApproved",
        ["CompleteInvoice"] = "InvoiceCompleted",
        ["RevokeInvoiceApproval"] = "InvoiceApprovalRevoked",
    };

    [Theory]
    [InlineData("--help", 0, "--messages", "unknown option")]
    [InlineData("-h", 0, "--scenarios", "unknown option")]
    [InlineData("--bogus", 2, "unknown option --bogus", "Unhandled exception")]
    public async Task Help_exits_0_with_the_usage_and_an_unknown_option_exits_2_naming_it(string argument, int exitCode, string expected, string unexpected)
    {
        var root = RepositoryRoot();
        var configuration = typeof(BenchmarkSmokeTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(root, "bench", "Bridge.Benchmarks", "bin", configuration, "net10.0", "Bridge.Benchmarks.dll"));
        start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var all = await stdout + await stderr;

        Assert.Equal(exitCode, process.ExitCode);
        Assert.Contains(expected, all, StringComparison.Ordinal);
        Assert.DoesNotContain(unexpected, all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tiny_benchmark_run_answers_every_message_and_writes_every_figure()
    {
        var root = RepositoryRoot();
        var configuration = typeof(BenchmarkSmokeTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var work = Directory.CreateTempSubdirectory("bridge-bench-smoke-").FullName;
        var json = Path.Combine(work, "results.json");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     Path.Combine(root, "bench", "Bridge.Benchmarks", "bin", configuration, "net10.0", "Bridge.Benchmarks.dll"),
                     "--messages", $"{Messages}", "--scenarios", "postgresql,sqlite,latency,prefilled,instances,latency-instances,mix", "--prefill-rows", "50", "--concurrency", "4", "--latency-ms", "20",
                     "--json", json, "--work-dir", work,
                     "--bridge", Path.Combine(root, "src", "Bridge.Host", "bin", configuration, "net10.0", "bridge.dll"),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        // The run reads the services from the same variables test.sh sets for every other test.
        start.Environment[TestEnvironment.RabbitMqVariable] = TestEnvironment.RabbitMqUri.ToString();
        start.Environment[TestEnvironment.PostgresVariable] = TestEnvironment.PostgresConnectionString;

        using var process = Process.Start(start)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (var deadline = new CancellationTokenSource(Deadline))
        {
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"the benchmark did not end within {Deadline.TotalMinutes:0} minutes:{Environment.NewLine}{Text(stderr)}");
            }
        }

        process.WaitForExit(); // drains the output readers
        output.WriteLine(Text(stdout));
        output.WriteLine(Text(stderr));
        Assert.True(process.ExitCode == 0, $"benchmark exit code {process.ExitCode}:{Environment.NewLine}{Text(stdout)}{Environment.NewLine}{Text(stderr)}");
        Assert.Contains($"json: {json}", Text(stdout), StringComparison.Ordinal);

        var report = JsonNode.Parse(await File.ReadAllTextAsync(json))!.AsObject();
        foreach (var field in new[] { "command", "startedAt", "processorCount", "runtime", "bridgeMode" })
        {
            Assert.True(report.ContainsKey(field), $"the report has no '{field}'");
        }

        var scenarios = report["scenarios"]!.AsArray().Select(s => s!.AsObject()).ToList();
        Assert.Equal(
            ["closing-documents/postgresql", "closing-documents/sqlite", "closing-documents/postgresql/latency-20ms/c4", "closing-documents/postgresql/prefilled-50", "closing-documents/postgresql/two-instances", "closing-documents/postgresql/latency-20ms/c4/two-instances", "mix/postgresql"],
            scenarios.Select(s => s["name"]!.GetValue<string>()));
        var cpuSeen = 0.0;
        foreach (var scenario in scenarios)
        {
            var name = scenario["name"]!.GetValue<string>();
            foreach (var field in ScenarioFields)
            {
                Assert.True(scenario.ContainsKey(field), $"{name} has no '{field}'");
            }

            foreach (var percentile in new[] { "p50", "p95", "p99" })
            {
                Assert.NotNull(scenario["endToEndLatencyMs"]![percentile]);
                Assert.NotNull(scenario["outboxDispatchLagMs"]![percentile]);
            }

            Assert.Equal(Messages, scenario["messages"]!.GetValue<int>());
            Assert.Equal(Messages, scenario["events"]!.GetValue<int>());
            Assert.Equal(Messages, scenario["sent"]!.GetValue<int>());
            Assert.Equal(Messages, scenario["relay"]!["messages"]!.GetValue<int>());
            Assert.Equal(scenario["prefetch"]!.GetValue<int>(), scenario["relay"]!["prefetch"]!.GetValue<int>());
            Assert.Equal(scenario["concurrency"]!.GetValue<int>(), scenario["relay"]!["concurrency"]!.GetValue<int>());
            var flows = scenario["flows"]!.AsObject();
            Assert.Equal(Messages, flows.Sum(f => f.Value!["messages"]!.GetValue<int>()));
            if (name.StartsWith("mix/", StringComparison.Ordinal))
            {
                // Every flow sent at least once, each message answered with its flow's success event and nothing else.
                Assert.Equal(SuccessOf.Keys.Order(), flows.Select(f => f.Key).Order());
                foreach (var (flow, result) in flows)
                {
                    var sent = result!["messages"]!.GetValue<int>();
                    Assert.True(sent >= 1, $"{flow}: {sent} messages");
                    Assert.Equal(sent, result["succeeded"]!.GetValue<int>());
                    Assert.Equal([(SuccessOf[flow], sent)], result["eventTypes"]!.AsObject().Select(t => (t.Key, t.Value!.GetValue<int>())));
                    Assert.NotNull(result["endToEndLatencyMs"]!["p99"]);
                    Assert.NotNull(result["outboxDispatchLagMs"]!["p99"]);
                }

                // Mostly small payment, invoice and correction bodies beside the documents; each message makes at least one call.
                Assert.InRange(scenario["bodyBytes"]!.GetValue<int>(), 300, 3999);
                Assert.True(scenario["activePlatformCalls"]!.GetValue<int>() >= Messages, $"{name}: {scenario["activePlatformCalls"]} ActivePlatform calls");
            }
            else
            {
                Assert.Equal(["SendClosingDocument"], flows.Select(f => f.Key));
                Assert.InRange(scenario["bodyBytes"]!.GetValue<int>(), 4000, 4700);

                // A new document is looked up by its key, then created: at least two calls each.
                Assert.True(scenario["activePlatformCalls"]!.GetValue<int>() >= 2 * Messages, $"{name}: {scenario["activePlatformCalls"]} ActivePlatform calls");
            }

            // Where the machine's CPU went, for Bridge's run and for the relay's; the machine was busy in both.
            foreach (var cpu in new[] { scenario["cpuMsPerMessage"]!, scenario["relay"]!["cpuMsPerMessage"]! })
            {
                Assert.All(CpuGroups, group => Assert.True(cpu[group]!.GetValue<double>() >= 0, $"{name}: {cpu}"));
            }

            // Some CPU is seen over the whole run (after the loop), not in each scenario: every counter (/proc/stat and each
            // process's own) counts in 10 ms ticks, and a tiny scenario's window can read 0 in all of them (CI: 20 messages in
            // 46 ms, every group 0).
            cpuSeen += CpuGroups.Sum(group => scenario["cpuMsPerMessage"]![group]!.GetValue<double>());

            // Every answer's times, one line per message after the header.
            var times = await File.ReadAllLinesAsync(Path.Combine(work, $"events-{name.Replace('/', '-')}.csv"));
            Assert.Equal("messageId,type,publishedMs,occurredMs,receivedMs", times[0]);
            Assert.Equal(Messages, times.Skip(1).Select(line => line.Split(',')[0]).Distinct(StringComparer.Ordinal).Count());

            Assert.True(scenario["bridgePeakRssMb"]!.GetValue<double>() > 0, $"{name}: no peak RSS");
            Assert.True(scenario["bridgeRssMb"]!.AsArray().Count >= 2 && scenario["bridgeRssMb"]!.AsArray().All(mb => mb!.GetValue<double>() > 0), $"{name}: RSS samples {scenario["bridgeRssMb"]}");
        }

        Assert.True(cpuSeen > 0, "no CPU was seen in any scenario");

        // Two Bridge processes shared the queue, and the table compares them with one.
        Assert.Equal([1, 1, 1, 1, 2, 2, 1], scenarios.Select(s => s["instances"]!.GetValue<int>()));
        Assert.Matches(@"closing-documents/postgresql/two-instances: [\d.]+ msg/s = [\d.]+ × one instance in the same run", Text(stdout));
        Assert.Matches(@"closing-documents/postgresql/latency-20ms/c4/two-instances: [\d.]+ msg/s = [\d.]+ × one instance in the same run", Text(stdout));
        Assert.Contains("closing-documents/postgresql: the machine's CPU ms per message ", Text(stdout), StringComparison.Ordinal);
        Assert.Matches(@"mix/postgresql: .*\bSendClosingDocument (\d+)/\1\b.*\(succeeded/sent\)", Text(stdout));

        var latency = scenarios[2];
        Assert.Equal(20, latency["sandboxLatencyMs"]!.GetValue<int>());
        Assert.Equal(4, latency["concurrency"]!.GetValue<int>());
        foreach (var field in new[] { "latencyMs", "concurrency", "callsPerMessage", "messagesPerSecond", "shareOfBound" })
        {
            Assert.NotNull(latency["bound"]![field]);
        }

        Assert.Null(scenarios[0]["bound"]);

        // Two instances at latency: each at C, bounded by both together.
        var latencyTwo = scenarios[5];
        Assert.Equal(20, latencyTwo["sandboxLatencyMs"]!.GetValue<int>());
        Assert.Equal(4, latencyTwo["concurrency"]!.GetValue<int>());
        Assert.Equal(8, latencyTwo["bound"]!["concurrency"]!.GetValue<int>());
        Assert.Matches(@"latency-20ms/c4/two-instances: bound C ÷ \(latency × calls per message\) = 2 × 4 ÷", Text(stdout));

        // PostgreSQL counts its transactions and WAL flushes; SQLite has no such counts.
        // Per message after Bridge reported ready (it consumes before): a figure only where enough messages came after.
        Assert.All(scenarios.Where(s => s["storage"]!.GetValue<string>() == "PostgreSql"), s =>
        {
            var perMessage = s["databaseTransactionsPerMessage"]!.GetValue<double>();
            var after = s["messages"]!.GetValue<int>() - s["answeredBeforeReady"]!.GetValue<int>();
            Assert.True(perMessage >= 0, $"{s["name"]}: {perMessage} transactions per message");
            Assert.True(after < 5 || perMessage > 1, $"{s["name"]}: {perMessage} transactions per message over the {after} answered after ready");
        });
        Assert.Null(scenarios[1]["databaseTransactionsPerMessage"]);
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "bench.sh")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("bench.sh not found above the test assembly.");
    }
}
