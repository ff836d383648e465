using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Bridge.Chaos.Processes;

/// <summary>
/// One Bridge instance as its own OS process (<c>dotnet bridge.dll</c>, configured by environment variables as in
/// production). Each start is an incarnation with its own port and log file; <see cref="Kill"/> is SIGKILL.
/// </summary>
public sealed class BridgeProcess(string name, string bridgeDll, IReadOnlyDictionary<string, string> settings, string logDirectory)
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(2);

    private readonly HttpClient _health = new() { Timeout = TimeSpan.FromSeconds(5) };
    private Process? _process;
    private int _incarnation;

    public string Name { get; } = name;

    public Uri? BaseAddress { get; private set; }

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Set once the current incarnation answered <c>/health/ready</c>.</summary>
    public bool IsReady { get; private set; }

    public string? CurrentLog { get; private set; }

    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    public async Task StartAsync(CancellationToken ct)
    {
        _incarnation++;
        IsReady = false;
        var port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        CurrentLog = Path.Combine(logDirectory, $"{Name}.{_incarnation}.log");

        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { bridgeDll },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(bridgeDll)!,
        };
        foreach (var variable in start.Environment.Keys.Where(k => k.StartsWith("Bridge__", StringComparison.Ordinal) || k.StartsWith("ActivePlatform__", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(variable);
        }

        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        start.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        start.Environment["DOTNET_gcServer"] = "0";

        var log = new StreamWriter(CurrentLog, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var gate = new Lock();
        void Write(string? line)
        {
            if (line is not null)
            {
                lock (gate)
                {
                    log.WriteLine(line);
                }
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.Exited += (_, _) =>
        {
            // Give the output readers a moment to drain before the writer goes.
            Task.Delay(500).ContinueWith(_ =>
            {
                lock (gate)
                {
                    log.Dispose();
                }
            }, TaskScheduler.Default);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await WaitUntilReadyAsync(process, ct);
    }

    /// <summary>SIGKILL: no shutdown, no flush, no acknowledgement; whatever it held stays held.</summary>
    public async Task<int?> KillAsync()
    {
        if (_process is not { HasExited: false } process)
        {
            return null;
        }

        var pid = process.Id;
        IsReady = false;
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
        return pid;
    }

    /// <summary>SIGTERM and a graceful stop; SIGKILL if it takes longer than <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        IsReady = false;
        using (var term = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } }))
        {
            await term!.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync();
        }
    }

    public string LogTail(int lines = 30)
    {
        try
        {
            return CurrentLog is null ? "" : string.Join(Environment.NewLine, File.ReadLines(CurrentLog).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    private async Task WaitUntilReadyAsync(Process process, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + ReadyTimeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new BridgeStartException($"{Name} exited with code {process.ExitCode} while starting:{Environment.NewLine}{LogTail()}");
            }

            try
            {
                using var response = await _health.GetAsync(new Uri(BaseAddress!, "health/ready"), ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    IsReady = true;
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // Not listening yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        }

        throw new BridgeStartException($"{Name} was not ready within {ReadyTimeout.TotalSeconds:0}s:{Environment.NewLine}{LogTail()}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class BridgeStartException(string message) : Exception(message);
