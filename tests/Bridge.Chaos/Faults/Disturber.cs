using System.Threading.Channels;
using Bridge.Chaos.Processes;
using Bridge.Chaos.Recording;
using Bridge.Sandbox;

namespace Bridge.Chaos.Faults;

/// <summary>
/// Carries out the fault schedule's actions beside the publisher: fault phases, kills and replays one after the other, in
/// schedule order; broker and database restarts in the background (they take seconds to tens of seconds, and the faults
/// and kills scheduled meanwhile should happen meanwhile). Every action is recorded in the history; one that fails is
/// recorded and skipped.
/// </summary>
public sealed class Disturber : IAsyncDisposable
{
    private readonly Channel<ChaosAction> _actions = Channel.CreateUnbounded<ChaosAction>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SandboxControlClient _sandbox;
    private readonly ProcessSupervisor _supervisor;
    private readonly ServiceControl _services;
    private readonly AdminClient _admin;
    private readonly History _history;
    private readonly Task _worker;
    private readonly List<Task> _restarts = [];
    private readonly SemaphoreSlim _brokerGate = new(1, 1);
    private readonly SemaphoreSlim _databaseGate = new(1, 1);

    public Disturber(SandboxControlClient sandbox, ProcessSupervisor supervisor, ServiceControl services, AdminClient admin, History history, CancellationToken ct)
    {
        _sandbox = sandbox;
        _supervisor = supervisor;
        _services = services;
        _admin = admin;
        _history = history;
        _worker = RunAsync(ct);
    }

    public int BrokerRestarts { get; private set; }

    public int DatabaseRestarts { get; private set; }

    public int Replays { get; private set; }

    public int Pauses { get; private set; }

    public int ManagerCorrections { get; private set; }

    public void Enqueue(ChaosAction action) => _actions.Writer.TryWrite(action);

    /// <summary>Waits until every enqueued action is done.</summary>
    public async Task DrainAsync()
    {
        _actions.Writer.TryComplete();
        await _worker;
        await Task.WhenAll(_restarts);
    }

    /// <summary>
    /// Replays the pending dead letters that faults produced, as an operator would; returns how many were sent back. Those
    /// only an operator can settle (an unknown outcome to check in ActivePlatform, a body that cannot be read) are left.
    /// </summary>
    public async Task<int> ReplayPendingAsync(CancellationToken ct)
    {
        var pending = (await _admin.ListAsync("Pending", ct)).Where(l => !Checking.LeftOverChecks.NeedsAnOperator(l));
        var replayed = 0;
        foreach (var letter in pending)
        {
            if (await _admin.ReplayAsync(letter.Id, ct))
            {
                replayed++;
            }
        }

        Replays += replayed;
        return replayed;
    }

    private async Task RunAsync(CancellationToken ct)
    {
        await foreach (var action in _actions.Reader.ReadAllAsync(ct))
        {
            try
            {
                await ApplyAsync(action, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                _history.Disturbed("action-failed", $"{action}: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private async Task ApplyAsync(ChaosAction action, CancellationToken ct)
    {
        switch (action)
        {
            case SetFaults faults:
                await _sandbox.SetFaultsAsync(faults.Rules, ct);
                await _sandbox.SetAsyncModeAsync(AsyncMode(faults.PollsToComplete), ct);
                _history.Disturbed("faults", faults.Description.Length == 0 ? "none" : faults.Description);
                break;

            case ReplayThenKill replayThenKill:
                await ReplayThenKillAsync(replayThenKill, ct);
                break;

            case KillInstance kill:
                await _supervisor.KillAsync(kill.Instance, kill.RestartAfter, ct);
                break;

            case PauseInstance pause:
                // In the background: the rest of the schedule goes on while the instance is frozen.
                _restarts.Add(InBackgroundAsync(action, null, async () =>
                {
                    await _supervisor.PauseAsync(pause.Instance, pause.Duration, ct);
                    Pauses++;
                }));
                break;

            case RestartBroker:
                _restarts.Add(InBackgroundAsync(action, _brokerGate, async () =>
                {
                    _history.Disturbed("rabbitmq", "restarting");
                    var took = await _services.RestartRabbitMqAsync(ct);
                    BrokerRestarts++;
                    _history.Disturbed("rabbitmq", $"restarted in {took.TotalSeconds:0.0}s");
                }));
                break;

            case RestartDatabase database:
                _restarts.Add(InBackgroundAsync(action, _databaseGate, async () =>
                {
                    _history.Disturbed("postgresql", $"stopping (immediate) for {database.Outage.TotalSeconds:0.0}s");
                    var took = await _services.RestartPostgresAsync(database.Outage, ct);
                    DatabaseRestarts++;
                    _history.Disturbed("postgresql", $"back after {took.TotalSeconds:0.0}s");
                }));
                break;

            case ManagerCorrection manager:
                var payment = (await _sandbox.GetPaymentsAsync(manager.PaymentNumber, null, ct)).FirstOrDefault()
                    ?? throw new InvalidOperationException($"payment {manager.PaymentNumber} is not in the sandbox");
                await _sandbox.ChangePaymentByHandAsync(payment.Id, new SandboxHandChange { PaymentId = payment.Id, CorrectionTotal = manager.Amount }, ct);
                ManagerCorrections++;
                _history.Disturbed("manager", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"correction of {manager.Amount} entered by hand on payment {manager.PaymentNumber}"));
                break;

            case ReplayDeadLetters:
                var replayed = await ReplayPendingAsync(ct);
                _history.Disturbed("replay", $"{replayed} pending dead letter(s) replayed through the admin API");
                break;
        }
    }

    /// <summary>The sandbox's async answers: closing documents whose key starts with <c>async-</c>, completed on poll <paramref name="polls"/>.</summary>
    public static AsyncModeSettings AsyncMode(int polls) =>
        new() { Mode = AsyncWriteMode.KeyPattern, KeyPattern = Generation.ClosingDocumentScenarios.AsyncKeyPattern, PollsToComplete = polls };

    /// <summary>Fires the replays at one instance and SIGKILLs it while they run: a replay cut between sending and recording.</summary>
    private async Task ReplayThenKillAsync(ReplayThenKill action, CancellationToken ct)
    {
        var instance = _supervisor.Instances[action.Instance % _supervisor.Instances.Count];
        var pending = (await _admin.ListAsync("Pending", ct)).Where(l => !Checking.LeftOverChecks.NeedsAnOperator(l)).ToList();
        if (instance.BaseAddress is not { } address || pending.Count == 0)
        {
            _history.Disturbed("replay-kill", $"nothing to replay through {instance.Name}");
            return;
        }

        var replays = pending.Select(l => _admin.TryReplayThroughAsync(address, l.Id, ct)).ToList();
        await Task.Delay(action.KillAfter, ct);
        _history.Disturbed("replay-kill", $"{pending.Count} replay(s) sent to {instance.Name}; killing it {action.KillAfter.TotalMilliseconds:0}ms later");
        await _supervisor.KillAsync(action.Instance, TimeSpan.FromSeconds(1), ct);
        await Task.WhenAll(replays);
    }

    private async Task InBackgroundAsync(ChaosAction action, SemaphoreSlim? gate, Func<Task> restart)
    {
        if (gate is not null)
        {
            await gate.WaitAsync();
        }

        try
        {
            await restart();
        }
        catch (Exception ex)
        {
            _history.Disturbed("action-failed", $"{action}: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            gate?.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _actions.Writer.TryComplete();
        try
        {
            await _worker;
            await Task.WhenAll(_restarts);
        }
        catch (OperationCanceledException)
        {
            // Cancelled with the run.
        }

        _brokerGate.Dispose();
        _databaseGate.Dispose();
    }
}
