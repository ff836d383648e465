using System.Globalization;
using System.Reflection;
using Bridge.Chaos.Model;
using Bridge.Chaos.Processes;

namespace Bridge.Chaos;

/// <summary>The command line of <c>./chaos.sh</c> (everything after the script's own options).</summary>
public sealed class ChaosOptions
{
    public const string Usage = """
        usage: chaos.sh [--seed N] [--messages M] [--kills K] [--storage postgresql|sqlite] [options]
          --seed N              seed of the message stream and the fault schedule (default: random, printed)
          --messages M          ERP messages to publish, duplicates included (default 300)
          --kills K             SIGKILLs of a Bridge instance during the run (default 3)
          --pauses P            SIGSTOPs of a Bridge instance for 1.2 to 2.2 claim leases, then SIGCONT: its claims run out while it
                                is frozen and it goes on where it stood (default 2)
          --late-landings S     share of the faulting phases that also answer some writes 502/503/504 at once and carry them
                                out 50 to 1 500 ms later, 0 to 1 (default 0.3; 0 for none; 1 for every faulting phase)
          --manager-corrections N
                                corrections a manager enters by hand on a statement line's payment as the line is published,
                                half of them of the line's own amount (default 4; 0 for none)
          --storage S           postgresql (default) or sqlite (one database file shared by both instances)
          --rate R              messages published per second (default 20)
          --restarts N          restarts of RabbitMQ and of PostgreSQL each (default 1; 0 for none; needs chaos.sh's services)
          --full-broker-restart restart the whole RabbitMQ node, not only the RabbitMQ application in it
          --door-share S        share of the publications the HTTP door can carry that are sent through it instead of AMQP,
                                0 to 1 (default 0.25; drawn from the seed)
          --print-plan          print the seed's message stream (one publication a line) and exit; needs no services
          --no-faults           no sandbox faults (kills and restarts still happen): e.g. to measure how long a killed
                                instance's documents wait
          --claim-lease SECONDS Bridge:Idempotency:DocumentClaimLease of both instances (default 10; Bridge's own default is 12)
          --exclude FLOW[,FLOW] leave flows out: closing-documents, notifications, statement-lines, payment-status, top-ups,
                                currency-rates, corrections, invoices, bad-input, control-keys
          --quiesce-timeout S   longest wait for the system to settle (default 600)
          --work-dir DIR        logs and the report (default: a new directory under /tmp)
          --bridge PATH         bridge.dll to run (default: src/Bridge.Host/bin/<this configuration>/net10.0/bridge.dll)
        Services: BRIDGE_TEST_RABBITMQ (AMQP URI) and BRIDGE_TEST_POSTGRES (server connection string); chaos.sh starts
        private ones and sets BRIDGE_CHAOS_SERVICES so that they can be restarted.
        """;

    public int Seed { get; private set; } = Random.Shared.Next(1, 1_000_000);

    public int Messages { get; private set; } = 300;

    public int Kills { get; private set; } = 3;

    public int Pauses { get; private set; } = 2;

    /// <summary>Corrections entered by hand on statement lines' payments (<see cref="Faults.ManagerCorrection"/>).</summary>
    public int ManagerCorrections { get; private set; } = 4;

    public StorageKind Storage { get; private set; } = StorageKind.PostgreSql;

    public double Rate { get; private set; } = 20;

    public int Restarts { get; private set; } = 1;

    public bool FullBrokerRestart { get; private set; }

    /// <summary>The share of the publications the door can carry that go through it (<see cref="Generation.DoorRouting"/>).</summary>
    public double DoorShare { get; private set; } = 0.25;

    public bool Faults { get; private set; } = true;

    /// <summary>The share of faulting phases with a late-landing rule (<see cref="Bridge.Chaos.Faults.FaultSchedule.DefaultLateLandingShare"/>).</summary>
    public double LateLandings { get; private set; } = Bridge.Chaos.Faults.FaultSchedule.DefaultLateLandingShare;

    public bool PrintPlanOnly { get; private set; }

    public TimeSpan ClaimLease { get; private set; } = TimeSpan.FromSeconds(10);

    public HashSet<Flow> Excluded { get; } = [];

    public TimeSpan QuiesceTimeout { get; private set; } = TimeSpan.FromMinutes(10);

    public string WorkDirectory { get; private set; } = "";

    public string BridgeDll { get; private set; } = "";

    public static ChaosOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ChaosOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Int(int min) => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                ? n
                : throw new ArgumentException($"{name} needs a whole number of at least {min}");

            switch (name)
            {
                case "--seed": options.Seed = Int(0); break;
                case "--messages": options.Messages = Int(1); break;
                case "--kills": options.Kills = Int(0); break;
                case "--pauses": options.Pauses = Int(0); break;
                case "--manager-corrections": options.ManagerCorrections = Int(0); break;
                case "--restarts": options.Restarts = Int(0); break;
                case "--full-broker-restart": options.FullBrokerRestart = true; break;
                case "--no-faults": options.Faults = false; break;
                case "--print-plan": options.PrintPlanOnly = true; break;
                case "--claim-lease": options.ClaimLease = TimeSpan.FromSeconds(Int(3)); break;
                case "--quiesce-timeout": options.QuiesceTimeout = TimeSpan.FromSeconds(Int(10)); break;
                case "--work-dir": options.WorkDirectory = Path.GetFullPath(Value()); break;
                case "--bridge": options.BridgeDll = Path.GetFullPath(Value()); break;
                case "--rate":
                    options.Rate = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0
                        ? rate
                        : throw new ArgumentException("--rate needs a positive number");
                    break;
                case "--late-landings":
                    options.LateLandings = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var late) && late is >= 0 and <= 1
                        ? late
                        : throw new ArgumentException("--late-landings needs a number from 0 to 1");
                    break;
                case "--door-share":
                    options.DoorShare = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var share) && share is >= 0 and <= 1
                        ? share
                        : throw new ArgumentException("--door-share needs a number from 0 to 1");
                    break;
                case "--storage":
                    options.Storage = Value().ToLowerInvariant() switch
                    {
                        "postgresql" or "postgres" => StorageKind.PostgreSql,
                        "sqlite" => StorageKind.Sqlite,
                        var other => throw new ArgumentException($"--storage must be postgresql or sqlite, not {other}"),
                    };
                    break;
                case "--exclude":
                    foreach (var flow in Value().Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        options.Excluded.Add(Flows.TryParse(flow, out var parsed) ? parsed : throw new ArgumentException($"--exclude: no flow is called {flow}"));
                    }

                    break;
                default:
                    throw new ArgumentException($"unknown option {name}");
            }
        }

        if (options.WorkDirectory.Length == 0)
        {
            options.WorkDirectory = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"bridge-chaos-{options.Seed}-{Environment.ProcessId}"));
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
        var configuration = typeof(ChaosOptions).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
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
