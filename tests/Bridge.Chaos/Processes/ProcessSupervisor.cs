using System.Globalization;
using Bridge.Chaos.Recording;

namespace Bridge.Chaos.Processes;

/// <summary>
/// Keeps the Bridge instances: starts them, kills one with SIGKILL when the schedule says so (recording the claims it held
/// at that moment) and starts it again after a pause, and restarts any instance that exits on its own (recorded: a Bridge
/// that dies by itself, e.g. while its database is down, is a finding of its own).
/// </summary>
public sealed class ProcessSupervisor : IAsyncDisposable
{
    private readonly List<BridgeProcess> _instances;
    private readonly Dictionary<BridgeProcess, SemaphoreSlim> _lifecycle;
    private readonly History _history;
    private readonly StorageProbe _storage;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _background = [];
    private readonly Lock _gate = new();
    private readonly HashSet<BridgeProcess> _intentionallyDown = [];
    private readonly HashSet<BridgeProcess> _paused = [];
    private Task? _watchdog;
    private int _unexpectedExits;

    public ProcessSupervisor(IEnumerable<BridgeProcess> instances, History history, StorageProbe storage)
    {
        _instances = [.. instances];
        _lifecycle = _instances.ToDictionary(i => i, _ => new SemaphoreSlim(1, 1));
        _history = history;
        _storage = storage;
    }

    public IReadOnlyList<BridgeProcess> Instances => _instances;

    public int UnexpectedExits => Volatile.Read(ref _unexpectedExits);

    /// <summary>Admin API addresses of the instances that are up.</summary>
    public IReadOnlyList<Uri> LiveAddresses() => [.. _instances.Where(i => i.IsReady && i.BaseAddress is not null && !IsPaused(i)).Select(i => i.BaseAddress!)];

    /// <summary>The instances that are up, by name, for the HTTP door (an ERP picks one; it may die while answering).</summary>
    public IReadOnlyList<DoorInstance> LiveDoors() =>
        [.. _instances.Where(i => i.IsReady && i.BaseAddress is not null && !IsPaused(i)).Select(i => new DoorInstance(i.Name, i.BaseAddress!))];

    private bool IsPaused(BridgeProcess instance)
    {
        lock (_gate)
        {
            return _paused.Contains(instance);
        }
    }

    public async Task StartAllAsync(CancellationToken ct)
    {
        // Together, as a deployment would: migrations are safe from several instances at once.
        await Task.WhenAll(_instances.Select(i => i.StartAsync(ct)));

        _watchdog = WatchAsync(_stopping.Token);
    }

    /// <summary>SIGKILLs an instance and starts it again after <paramref name="restartAfter"/>, in the background.</summary>
    public async Task KillAsync(int index, TimeSpan restartAfter, CancellationToken ct)
    {
        var instance = _instances[index % _instances.Count];
        var lifecycle = _lifecycle[instance];
        await lifecycle.WaitAsync(ct);
        try
        {
            if (!instance.IsRunning)
            {
                _history.Disturbed("kill", $"{instance.Name} is not running; nothing to kill");
                return;
            }

            lock (_gate)
            {
                _intentionallyDown.Add(instance);
            }

            var pid = instance.ProcessId!.Value;
            var at = DateTimeOffset.UtcNow;
            await instance.KillAsync();
            IReadOnlyList<HeldClaim> held;
            try
            {
                held = await _storage.ClaimsHeldByAsync(pid, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                held = [];
            }

            _history.Killed(new KillRecord(at, instance.Name, pid, held));
            _history.Disturbed("kill", $"SIGKILL {instance.Name} (pid {pid}) holding {held.Count} claim(s){(held.Count == 0 ? "" : ": " + string.Join(", ", held.Select(h => $"{h.Scope}/{EventText.Visible(h.DocumentKey)}")))}; restart in {restartAfter.TotalSeconds:0.0}s");
        }
        finally
        {
            lifecycle.Release();
        }

        lock (_gate)
        {
            _background.Add(RestartLaterAsync(instance, restartAfter, _stopping.Token));
        }
    }

    /// <summary>
    /// Freezes an instance (SIGSTOP) for <paramref name="duration"/> and lets it go on (SIGCONT): a paused VM, a long GC, a
    /// process descheduled. Longer than a claim lease, its claims run out while it is frozen and other deliveries take its
    /// documents; when it wakes, its in-flight messages carry on from where they stood — every write they still make must
    /// be fenced. No kill or restart of that instance happens meanwhile, and neither the admin API nor the door picks it.
    /// </summary>
    public async Task PauseAsync(int index, TimeSpan duration, CancellationToken ct)
    {
        var instance = _instances[index % _instances.Count];
        var lifecycle = _lifecycle[instance];
        await lifecycle.WaitAsync(ct);
        try
        {
            if (instance.ProcessId is not { } pid || !instance.IsReady)
            {
                _history.Disturbed("pause", $"{instance.Name} is not running; nothing to pause");
                return;
            }

            lock (_gate)
            {
                _paused.Add(instance);
            }

            IReadOnlyList<HeldClaim> held;
            try
            {
                held = await _storage.ClaimsHeldByAsync(pid, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                held = [];
            }

            Signals.Stop(pid);
            _history.Disturbed("pause", $"SIGSTOP {instance.Name} (pid {pid}) holding {held.Count} claim(s){(held.Count == 0 ? "" : ": " + string.Join(", ", held.Select(h => $"{h.Scope}/{EventText.Visible(h.DocumentKey)}")))}; SIGCONT in {duration.TotalSeconds:0.0}s");
            try
            {
                await Task.Delay(duration, ct);
            }
            finally
            {
                // Always let it go on, also when the run is cancelled: a frozen process would outlive the run.
                Signals.Continue(pid);
                lock (_gate)
                {
                    _paused.Remove(instance);
                }

                _history.Disturbed("pause", $"SIGCONT {instance.Name} (pid {pid})");
            }
        }
        finally
        {
            lifecycle.Release();
        }
    }

    /// <summary>Starts every instance that is not running and waits until all are ready.</summary>
    public async Task EnsureAllRunningAsync(CancellationToken ct)
    {
        Task[] pending;
        lock (_gate)
        {
            pending = [.. _background];
        }

        await Task.WhenAll(pending);
        foreach (var instance in _instances.Where(i => !i.IsRunning || !i.IsReady))
        {
            await StartWithRetriesAsync(instance, ct);
        }
    }

    private async Task RestartLaterAsync(BridgeProcess instance, TimeSpan after, CancellationToken ct)
    {
        try
        {
            await Task.Delay(after, ct);
            await StartWithRetriesAsync(instance, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    private async Task StartWithRetriesAsync(BridgeProcess instance, CancellationToken ct)
    {
        var lifecycle = _lifecycle[instance];
        await lifecycle.WaitAsync(ct);
        try
        {
            for (var attempt = 1; !instance.IsRunning || !instance.IsReady; attempt++)
            {
                try
                {
                    await instance.StartAsync(ct);
                    _history.Disturbed("start", $"{instance.Name} up (pid {instance.ProcessId}) at {instance.BaseAddress}");
                }
                catch (BridgeStartException ex) when (attempt < 10)
                {
                    // E.g. the database is down right now: Bridge refuses to start without it. Try again.
                    _history.Disturbed("start-failed", $"{instance.Name} attempt {attempt}: {ex.Message.Split(Environment.NewLine)[0]}");
                    await instance.KillAsync();
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _intentionallyDown.Remove(instance);
            }

            lifecycle.Release();
        }
    }

    private async Task WatchAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                foreach (var instance in _instances)
                {
                    bool expected;
                    lock (_gate)
                    {
                        expected = _intentionallyDown.Contains(instance);
                    }

                    if (expected || instance.IsRunning || instance.ExitCode is null || !_lifecycle[instance].Wait(0))
                    {
                        continue;
                    }

                    _lifecycle[instance].Release();
                    Interlocked.Increment(ref _unexpectedExits);
                    _history.Disturbed("exited", $"{instance.Name} exited by itself with code {instance.ExitCode}; log {instance.CurrentLog}:{Environment.NewLine}{instance.LogTail(15)}");
                    lock (_gate)
                    {
                        _intentionallyDown.Add(instance);
                        _background.Add(RestartLaterAsync(instance, TimeSpan.FromSeconds(1), ct));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_watchdog is not null)
        {
            await _watchdog;
        }

        Task[] pending;
        lock (_gate)
        {
            pending = [.. _background];
        }

        await Task.WhenAll(pending);
        await Task.WhenAll(_instances.Select(i => i.StopAsync(TimeSpan.FromSeconds(15))));
        _stopping.Dispose();
    }
}

/// <summary>SIGSTOP and SIGCONT, through kill(1): the runtime has no API for either.</summary>
internal static class Signals
{
    public static void Stop(int pid) => Send(pid, "-STOP");

    public static void Continue(int pid) => Send(pid, "-CONT");

    private static void Send(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("kill", [signal, pid.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("kill(1) could not be started");
        kill.WaitForExit();

        // A process that died meanwhile needs no signal; any other failure is the harness's.
        if (kill.ExitCode != 0 && !kill.StandardError.ReadToEnd().Contains("No such process", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"kill {signal} {pid} failed with exit code {kill.ExitCode}");
        }
    }
}
