using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.Benchmarks;

// The throughput benchmark (issue 8). Run it with ./bench.sh, which starts RabbitMQ and PostgreSQL and builds Release first.
// Exit codes: 0 every message of every scenario answered with its success event (ClosingDocumentSent for a closing document);
// 1 some were answered otherwise; 2 the run itself
// could not be carried out.
if (args.Any(arg => arg is "--help" or "-h"))
{
    await Console.Out.WriteLineAsync(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync($"bench: {ex.Message}{Environment.NewLine}{BenchOptions.Usage}");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

BenchReport report;
try
{
    var command = Environment.GetEnvironmentVariable("BRIDGE_BENCH_COMMAND") is { Length: > 0 } given ? given : "Bridge.Benchmarks " + string.Join(' ', args);
    report = await new BenchRun(options).RunAsync(command, cancel.Token);
}
catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or TimeoutException or Bridge.Chaos.Processes.BridgeStartException)
{
    await Console.Error.WriteLineAsync($"bench: the run could not be carried out: {ex}");
    return 2;
}

Directory.CreateDirectory(Path.GetDirectoryName(options.JsonPath)!);
await File.WriteAllTextAsync(options.JsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web)
{
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
}));
Console.WriteLine(Table.Render(report));
Console.WriteLine($"json: {options.JsonPath}");
return report.Scenarios.All(s => s.Sent == s.Messages) ? 0 : 1;

internal static class Table
{
    public static string Render(BenchReport report)
    {
        static string F(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);
        var rows = new List<string[]>
        {
            new[] { "scenario", "msgs", "msg/s", "relay msg/s", "Bridge÷relay", "e2e p50/p95/p99 ms", "outbox lag p50/p99 ms", "AP calls/msg", "DB tx/msg", "WAL flushes/msg", "CPU ms/msg", "peak RSS MB" },
        };
        foreach (var s in report.Scenarios)
        {
            rows.Add(
            [
                s.Name,
                $"{s.Sent}/{s.Messages}",
                F(s.MessagesPerSecond),
                F(s.Relay.MessagesPerSecond),
                F(s.BridgeToRelay * 100, "0.0") + " %",
                $"{F(s.EndToEndLatencyMs.P50, "0")}/{F(s.EndToEndLatencyMs.P95, "0")}/{F(s.EndToEndLatencyMs.P99, "0")}",
                $"{F(s.OutboxDispatchLagMs.P50, "0")}/{F(s.OutboxDispatchLagMs.P99, "0")}",
                F(s.ActivePlatformCallsPerMessage, "0.00"),
                s.DatabaseTransactionsPerMessage is { } tx ? F(tx, "0.00") : "-",
                s.WalFlushesPerMessage is { } flushes ? F(flushes, "0.00") : "-",
                F(s.BridgeCpuMsPerMessage, "0.00"),
                F(s.BridgePeakRssMb, "0"),
            ]);
        }

        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var (row, index) in rows.Select((r, i) => (r, i)))
        {
            text.AppendLine("| " + string.Join(" | ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))) + " |");
            if (index == 0)
            {
                text.AppendLine("|" + string.Join("|", widths.Select((w, c) => c == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
            }
        }

        // Two instances against the one-instance scenario of the same run that differs only in the count: closing documents
        // on PostgreSQL with the same latency and concurrency, on an empty database.
        foreach (var two in report.Scenarios.Where(s => s.Instances == 2))
        {
            if (report.Scenarios.FirstOrDefault(s => s.Instances == 1
                    && s.Name == two.Name[..two.Name.LastIndexOf('/')]
                    && s.SandboxLatencyMs == two.SandboxLatencyMs
                    && s.Concurrency == two.Concurrency) is { MessagesPerSecond: > 0 } one)
            {
                text.AppendLine($"{two.Name}: {F(two.MessagesPerSecond)} msg/s = {F(two.MessagesPerSecond / one.MessagesPerSecond, "0.00")} × one instance in the same run ({F(one.MessagesPerSecond)} msg/s), on {report.ProcessorCount} cores");
            }
        }

        foreach (var s in report.Scenarios.Where(s => s.BridgeRssMb.Count >= 2))
        {
            text.AppendLine($"{s.Name}: RSS {F(s.BridgeRssMb[0], "0")} MB at the start, {F(s.BridgeRssMb[^1], "0")} MB at the end, {F(s.BridgeRssMb.Max(), "0")} MB at most ({s.BridgeRssMb.Count} samples over {F(s.Seconds, "0")} s)");
        }

        foreach (var s in report.Scenarios.Where(s => s.CpuMsPerMessage is not null))
        {
            var c = s.CpuMsPerMessage!;
            var relay = s.Relay.CpuMsPerMessage is { } r ? $"; the relay: {F(r.Machine, "0.00")} (relay {F(r.Bench, "0.00")}, RabbitMQ {F(r.RabbitMq, "0.00")})" : "";
            text.AppendLine($"{s.Name}: the machine's CPU ms per message {F(c.Machine, "0.00")}: Bridge {F(c.Bridge, "0.00")}, PostgreSQL {F(c.PostgreSql, "0.00")}, RabbitMQ {F(c.RabbitMq, "0.00")}, sandbox and capture {F(c.Bench, "0.00")}, other processes {F(c.Other, "0.00")}{relay}");
        }

        foreach (var s in report.Scenarios.Where(s => s.Bound is not null))
        {
            var b = s.Bound!;
            text.AppendLine($"{s.Name}: bound C ÷ (latency × calls per message) = {(s.Instances > 1 ? $"{s.Instances} × {s.Concurrency}" : $"{b.Concurrency}")} ÷ ({b.LatencyMs} ms × {F(b.CallsPerMessage, "0.00")}) = {F(b.MessagesPerSecond)} msg/s; Bridge reached {F(b.ShareOfBound * 100)} % of it");
        }

        foreach (var s in report.Scenarios.Where(s => s.Flows.Count > 1))
        {
            text.AppendLine($"{s.Name}: {string.Join(", ", s.Flows.Select(f => $"{f.Key} {f.Value.Succeeded}/{f.Value.Messages}"))} (succeeded/sent)");
        }

        foreach (var s in report.Scenarios.Where(s => s.Sent != s.Messages))
        {
            text.AppendLine($"{s.Name}: not every message was answered with its success event: {string.Join(", ", s.EventTypes.Select(kv => $"{kv.Key} {kv.Value}"))}; log {s.BridgeLog}");
        }

        text.Append(CultureInfo.InvariantCulture, $"{report.ProcessorCount} cores, {report.Runtime}; Bridge ran as a {report.BridgeMode}; command: {report.Command}");
        return text.ToString();
    }
}
