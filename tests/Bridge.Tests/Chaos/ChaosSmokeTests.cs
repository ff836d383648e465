using System.Diagnostics;
using System.Reflection;
using System.Text;
using Xunit.Abstractions;

namespace Bridge.Tests.Chaos;

/// <summary>The chaos run starts its own RabbitMQ and PostgreSQL and two Bridge processes: it runs alone, after the rest.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "Chaos suite (runs alone)";
}

/// <summary>
/// A short fixed-seed run of the chaos suite (<c>./chaos.sh</c>, tests/Bridge.Chaos) on what this test run built: every
/// flow, two Bridge processes, sandbox faults, SIGKILLs, a RabbitMQ and a PostgreSQL restart, then every invariant.
/// A violation fails the test with the run's report (each violation with its history). Longer runs: README, "Chaos suite".
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed class ChaosSmokeTests(ITestOutputHelper output)
{
    public const int Seed = 20261201;

    /// <summary>
    /// Only a guard against a hung run: it takes two minutes on two quiet cores, but on a machine with every core busy
    /// (load 60–70 on two cores) starting RabbitMQ alone took four minutes and the run more than eight. The wait ends as
    /// soon as the run does.
    /// </summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(30);

    [Fact]
    public Task A_short_fixed_seed_chaos_run_finds_no_violation() => RunAsync(Seed, messages: 100);

    /// <summary>
    /// Seed 142's 120 messages hold, beside every flow, the cases issue 7 names: a statement line, a top-up and a correction
    /// republished with other figures, a twin top-up, two messages under one AMQP id, two-line payments, async documents.
    /// </summary>
    [Fact]
    public Task A_fixed_seed_run_with_issue_7s_cases_finds_no_violation() => RunAsync(142, messages: 120);

    private async Task RunAsync(int seed, int messages)
    {
        var root = RepositoryRoot();
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Path.Combine(root, "chaos.sh"), "--no-build", "--configuration", Configuration(), "--seed", $"{seed}", "--messages", $"{messages}", "--kills", "2", "--rate", "5" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            await StopHungRunAsync(process);
            Assert.Fail($"the chaos run did not end within {Deadline.TotalMinutes:0} minutes:{Environment.NewLine}{Tail(stderr, 60)}");
        }

        process.WaitForExit(); // drains the output readers
        var summary = stdout.ToString().TrimEnd().Split('\n').LastOrDefault() ?? "";
        output.WriteLine(summary);
        output.WriteLine(Tail(stderr, 80));
        Assert.True(process.ExitCode == 0, $"chaos run exit code {process.ExitCode}: {summary}{Environment.NewLine}{stdout}{Environment.NewLine}{Tail(stderr, 40)}");
        Assert.Contains($"seed={seed}", summary, StringComparison.Ordinal);
        Assert.Contains("violations=0", summary, StringComparison.Ordinal);
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

    /// <summary>
    /// Ends the chaos program (and the Bridge processes it started) but lets <c>chaos.sh</c> run its exit trap, which stops
    /// its RabbitMQ and PostgreSQL: killing the script's whole tree would leave the PostgreSQL that <c>pg_ctl</c> detached
    /// running after the test.
    /// </summary>
    private static async Task StopHungRunAsync(Process script)
    {
        foreach (var child in Children(script.Id).Where(IsChaosProgram))
        {
            try
            {
                using var program = Process.GetProcessById(child);
                program.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }

        using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await script.WaitForExitAsync(cleanup.Token);
        }
        catch (OperationCanceledException)
        {
            script.Kill(entireProcessTree: true);
        }
    }

    private static bool IsChaosProgram(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains("Bridge.Chaos.dll", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static List<int> Children(int parent)
    {
        var children = new List<int>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{parent}/task"))
        {
            var list = Path.Combine(task, "children");
            if (File.Exists(list))
            {
                children.AddRange(File.ReadAllText(list).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            }
        }

        return children;
    }

    private static string Tail(StringBuilder text, int lines)
    {
        lock (text)
        {
            return string.Join(Environment.NewLine, text.ToString().Split('\n').TakeLast(lines));
        }
    }

    private static string Configuration() =>
        typeof(ChaosSmokeTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "chaos.sh")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("chaos.sh not found above the test assembly.");
    }
}
