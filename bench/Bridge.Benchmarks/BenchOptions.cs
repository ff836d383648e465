using System.Globalization;
using System.Reflection;

namespace Bridge.Benchmarks;

/// <summary>The scenarios one run can measure (<c>--scenarios</c>).</summary>
public enum ScenarioKind
{
    /// <summary>Closing documents, the sandbox answering at once, PostgreSQL.</summary>
    PostgreSql,

    /// <summary>The same on one SQLite file.</summary>
    Sqlite,

    /// <summary>Closing documents on PostgreSQL with every ActivePlatform call delayed by <c>--latency-ms</c>, at <c>--concurrency</c>.</summary>
    Latency,

    /// <summary>
    /// As <see cref="PostgreSql"/>, on a database whose hot tables (idempotency records, document states, the outbox, the
    /// effect journal) already hold <c>--prefill-rows</c> rows each, as after weeks of month-ends.
    /// </summary>
    Prefilled,

    /// <summary>As <see cref="PostgreSql"/>, with two Bridge processes on the same queue, database and sandbox.</summary>
    TwoInstances,

    /// <summary>
    /// As <see cref="Latency"/>, with two Bridge processes on the same queue, database and sandbox, each at <c>--concurrency</c>:
    /// how the rate scales where ActivePlatform's latency, not the machine, is the limit.
    /// </summary>
    LatencyTwoInstances,

    /// <summary>
    /// A month-end mix of every ERP flow (<see cref="Mix.Flows"/>), each on its own input queue, on PostgreSQL with Bridge's
    /// defaults; the sandbox holds what each message acts on before Bridge starts.
    /// </summary>
    Mix,
}

/// <summary>The command line of <c>./bench.sh</c> (everything after the script's own options).</summary>
public sealed class BenchOptions
{
    public const string Usage = """
        usage: bench.sh [--messages N] [--scenarios postgresql,sqlite,latency,prefilled,instances,latency-instances,mix] [--concurrency C] [--json PATH] [options]
          --messages N        messages preloaded per scenario (default 2000): SendClosingDocument, or for mix every flow
          --scenarios LIST    any of postgresql, sqlite, latency, prefilled, instances (two Bridge processes), latency-instances
                              (two Bridge processes, each as in latency), mix (a month-end mix of all 13 flows, each on its own
                              queue), comma-separated (default: postgresql, sqlite, latency; prefilled writes millions of rows
                              first and takes minutes more)
          --prefill-rows N    rows in each hot table before the prefilled scenario starts (default 1000000)
          --concurrency C     Bridge:Messaging:ConcurrentMessageLimit of the latency scenarios (default 32); the zero-latency
                              scenarios run Bridge's defaults (8 at once and prefetch 16 per input queue)
          --latency-ms MS     delay the sandbox adds to every ActivePlatform call in the latency scenarios (default 100)
          --json PATH         where the results are written (default: results.json in the work directory); the path is printed
          --work-dir DIR      Bridge's logs, the SQLite file, the JSON and events-<scenario>.csv (each answer's publish,
                              occurredAt and arrival, in ms from the first arrival) (default: a new directory under /tmp)
          --bridge PATH       bridge.dll to run (default: src/Bridge.Host/bin/<this configuration>/net10.0/bridge.dll)
        Services: BRIDGE_TEST_RABBITMQ (AMQP URI) and BRIDGE_TEST_POSTGRES (server connection string); bench.sh starts
        private ones when they are unset.
        """;

    /// <summary>Bridge's prefetch when it is not set (MassTransit: twice the cores, at least 16).</summary>
    public static int DefaultPrefetch => Math.Max(Environment.ProcessorCount * 2, 16);

    /// <summary>Bridge's default <c>Bridge:Messaging:ConcurrentMessageLimit</c>.</summary>
    public const int DefaultConcurrency = 8;

    public int Messages { get; private set; } = 2000;

    public IReadOnlyList<ScenarioKind> Scenarios { get; private set; } = [ScenarioKind.PostgreSql, ScenarioKind.Sqlite, ScenarioKind.Latency];

    public int Concurrency { get; private set; } = 32;

    public int PrefillRows { get; private set; } = 1_000_000;

    public int LatencyMs { get; private set; } = 100;

    public string JsonPath { get; private set; } = "";

    public string WorkDirectory { get; private set; } = "";

    public string BridgeDll { get; private set; } = "";

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Int(int min, int max) => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                ? n
                : throw new ArgumentException($"{name} needs a whole number from {min} to {max}");

            switch (name)
            {
                case "--messages": options.Messages = Int(2, 1_000_000); break;
                case "--concurrency": options.Concurrency = Int(1, 256); break;
                case "--prefill-rows": options.PrefillRows = Int(1, 100_000_000); break;
                case "--latency-ms": options.LatencyMs = Int(1, 60_000); break;
                case "--json": options.JsonPath = Path.GetFullPath(Value()); break;
                case "--work-dir": options.WorkDirectory = Path.GetFullPath(Value()); break;
                case "--bridge": options.BridgeDll = Path.GetFullPath(Value()); break;
                case "--scenarios":
                    options.Scenarios = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant() switch
                    {
                        "postgresql" or "postgres" => ScenarioKind.PostgreSql,
                        "sqlite" => ScenarioKind.Sqlite,
                        "latency" => ScenarioKind.Latency,
                        "prefilled" => ScenarioKind.Prefilled,
                        "instances" or "two-instances" => ScenarioKind.TwoInstances,
                        "latency-instances" => ScenarioKind.LatencyTwoInstances,
                        "mix" => ScenarioKind.Mix,
                        var other => throw new ArgumentException($"--scenarios: no scenario is called {other} (postgresql, sqlite, latency, prefilled, instances, latency-instances, mix)"),
                    }).Distinct()];
                    if (options.Scenarios.Count == 0)
                    {
                        throw new ArgumentException("--scenarios needs at least one scenario");
                    }

                    break;
                default:
                    throw new ArgumentException($"unknown option {name}");
            }
        }

        if (options.WorkDirectory.Length == 0)
        {
            options.WorkDirectory = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"bridge-bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}"));
        }

        if (options.JsonPath.Length == 0)
        {
            options.JsonPath = Path.Combine(options.WorkDirectory, "results.json");
        }

        if (options.BridgeDll.Length == 0)
        {
            options.BridgeDll = DefaultBridgeDll();
        }

        return options;
    }

    /// <summary>The Host built in the same configuration as this program, found from the repository root.</summary>
    private static string DefaultBridgeDll()
    {
        var configuration = typeof(BenchOptions).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bridge.sln")))
            {
                return Path.Combine(directory.FullName, "src", "Bridge.Host", "bin", configuration, "net10.0", "bridge.dll");
            }
        }

        throw new ArgumentException("Bridge.sln not found above this program: give --bridge PATH to bridge.dll");
    }
}
