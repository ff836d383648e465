using System.Globalization;

namespace Bridge.Benchmarks;

/// <summary>CPU time and peak resident memory of another process, read from <c>/proc/&lt;pid&gt;</c> (Linux).</summary>
public static class ProcessMeter
{
    /// <summary>The kernel's USER_HZ: /proc/&lt;pid&gt;/stat counts CPU time in these ticks (100 on every Linux ABI .NET runs on).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>User + system CPU time the process has used so far.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: the fields after it start at 'state' (field 3).
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[14 - 3], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[15 - 3], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds((utime + stime) / TicksPerSecond);
    }

    /// <summary>Peak resident set size since the process started (VmHWM), in bytes.</summary>
    public static long PeakResidentBytes(int pid) => StatusKilobytes(pid, "VmHWM:") * 1024;

    /// <summary>Resident set size now (VmRSS), in bytes.</summary>
    public static long ResidentBytes(int pid) => StatusKilobytes(pid, "VmRSS:") * 1024;

    private static long StatusKilobytes(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
