using System.Globalization;

namespace Bridge.Benchmarks;

/// <summary>CPU time per message over a window, by who spent it (milliseconds).</summary>
/// <param name="Bridge">The Bridge processes measured.</param>
/// <param name="PostgreSql">Every <c>postgres</c> process on this machine (the server and its backends).</param>
/// <param name="RabbitMq">Every Erlang process on this machine (<c>beam.smp</c>, <c>erl_child_setup</c>, <c>epmd</c>).</param>
/// <param name="Bench">This process: the sandbox answering Bridge, the result capture, the relay when it runs.</param>
/// <param name="Other">Every other process (another build or test run shows up here).</param>
/// <param name="Machine">The machine's busy time from <c>/proc/stat</c> (all cores; the kernel's own work included).</param>
public sealed record CpuByProcess(double Bridge, double PostgreSql, double RabbitMq, double Bench, double Other, double Machine);

/// <summary>
/// Where a scenario's CPU goes on this machine: every process's user + system time read from <c>/proc</c> when the window
/// starts, on every <see cref="Sample"/> and when it ends, so a process that starts inside the window counts whole and one
/// that ends inside it counts up to its last sample (sample every few seconds: PostgreSQL's backends live as long as
/// Bridge's pooled connections). Linux only; on services of another machine only the local processes are counted.
/// </summary>
public sealed class MachineCpu
{
    private const double MsPerTick = 10; // USER_HZ = 100
    private readonly IReadOnlySet<int> _bridge;
    private readonly Dictionary<int, (string Command, long Ticks)> _first;
    private readonly Dictionary<int, (string Command, long Ticks)> _last;
    private readonly long _busyAtStart;

    private MachineCpu(IReadOnlySet<int> bridge)
    {
        _bridge = bridge;
        _first = Processes();
        _last = new Dictionary<int, (string, long)>(_first);
        _busyAtStart = MachineBusyTicks();
    }

    public static MachineCpu Start(IEnumerable<int> bridgePids) => new(bridgePids.ToHashSet());

    public void Sample()
    {
        foreach (var (pid, now) in Processes())
        {
            _last[pid] = now;
        }
    }

    /// <summary>Samples once more and divides what each group spent since the start by <paramref name="messages"/>.</summary>
    public CpuByProcess PerMessage(int messages)
    {
        Sample();
        var busy = MachineBusyTicks() - _busyAtStart;
        double bridge = 0, postgres = 0, rabbit = 0, bench = 0, other = 0;
        var self = Environment.ProcessId;
        foreach (var (pid, (command, ticks)) in _last)
        {
            var spent = ticks - (_first.TryGetValue(pid, out var first) && first.Command == command ? first.Ticks : 0);
            if (_bridge.Contains(pid))
            {
                bridge += spent;
            }
            else if (command == "postgres")
            {
                postgres += spent;
            }
            else if (command is "beam.smp" or "erl_child_setup" or "epmd" or "inet_gethost")
            {
                rabbit += spent;
            }
            else if (pid == self)
            {
                bench += spent;
            }
            else
            {
                other += spent;
            }
        }

        double PerMessage(double ticks) => ticks * MsPerTick / Math.Max(1, messages);
        return new CpuByProcess(PerMessage(bridge), PerMessage(postgres), PerMessage(rabbit), PerMessage(bench), PerMessage(other), PerMessage(busy));
    }

    private static Dictionary<int, (string Command, long Ticks)> Processes()
    {
        var processes = new Dictionary<int, (string, long)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var open = stat.IndexOf('(');
                var close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' ');
                processes[pid] = (stat[(open + 1)..close], long.Parse(fields[14 - 3], CultureInfo.InvariantCulture) + long.Parse(fields[15 - 3], CultureInfo.InvariantCulture));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // Gone between the listing and the read, or not ours to read.
            }
        }

        return processes;
    }

    /// <summary>All cores' busy ticks: the <c>cpu</c> line of <c>/proc/stat</c> less idle and iowait.</summary>
    private static long MachineBusyTicks()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest time is already inside user)
        return fields.Take(8).Sum() - fields[3] - fields[4];
    }
}
