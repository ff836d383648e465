using System.Globalization;
using Bridge.Sandbox;

namespace Bridge.Chaos.Faults;

/// <summary>Something done to the system when the stream reaches a publication.</summary>
public abstract record ChaosAction(int AtPublication);

/// <summary>
/// Replaces the sandbox's fault rules (empty: no faults), and sets how many polls an async task takes to complete (slow
/// tasks outlast Bridge's polling deadline, so the outcome of a create stays unknown while other messages arrive).
/// </summary>
public sealed record SetFaults(int AtPublication, string Description, IReadOnlyList<FaultRule> Rules, int PollsToComplete) : ChaosAction(AtPublication);

/// <summary>SIGKILLs instance <see cref="Instance"/> and starts it again after <see cref="RestartAfter"/>.</summary>
public sealed record KillInstance(int AtPublication, int Instance, TimeSpan RestartAfter) : ChaosAction(AtPublication);

/// <summary>Freezes instance <see cref="Instance"/> (SIGSTOP) for <see cref="Duration"/>, longer than a claim lease, then SIGCONT.</summary>
public sealed record PauseInstance(int AtPublication, int Instance, TimeSpan Duration) : ChaosAction(AtPublication);

public sealed record RestartBroker(int AtPublication) : ChaosAction(AtPublication);

public sealed record RestartDatabase(int AtPublication, TimeSpan Outage) : ChaosAction(AtPublication);

/// <summary>An operator replays every pending dead letter through the admin API.</summary>
public sealed record ReplayDeadLetters(int AtPublication) : ChaosAction(AtPublication);

/// <summary>An operator replays the pending dead letters through one instance, which is SIGKILLed while it does.</summary>
public sealed record ReplayThenKill(int AtPublication, int Instance, TimeSpan KillAfter) : ChaosAction(AtPublication);

/// <summary>
/// A manager enters a correction by hand on a statement line's payment as the line is published: of the line's own amount
/// (a look-alike of the line's correction) or another. Bridge fences a payment against its own flows only; a line whose
/// answer is lost meanwhile must never take the manager's correction for its own, nor be sent again.
/// </summary>
public sealed record ManagerCorrection(int AtPublication, string PaymentNumber, decimal Amount) : ChaosAction(AtPublication);

/// <summary>
/// The seeded plan of disturbances, placed by stream position (after the N-th publication) rather than by clock, so a seed
/// always disturbs the same part of the stream: phases of sandbox faults (latency, 5xx, 429 with Retry-After, hangs past
/// the client's timeout, answers lost after the effect, calls answered at once and carried out later), SIGKILLs, broker and database restarts, and operator replays.
/// Every kind of fault appears at least once when the stream is long enough to hold six phases.
/// </summary>
public static class FaultSchedule
{
    /// <summary>The sandbox paths each flow writes to; a fault rule targets one of them (or every call).</summary>
    private static readonly string?[] Paths =
    [
        null, "/external_invoices", "/notifications", "/payments", "/corrections", "/currency_rates", "/invoices", "_invoices", "/async_tasks",
    ];

    private static readonly string?[] WriteMethods = [null, "POST", "PATCH", "DELETE"];

    /// <summary>
    /// The longest a call answered at once may take to be carried out in a late-landing phase: below the attempt timeout the
    /// chaos run gives Bridge (2 s), which is what Bridge's in-flight window counts on. Later than that is outside its model.
    /// </summary>
    public const int LateLandingMaxMs = 1500;

    /// <summary>The share of the faulting phases that also land calls late, unless <c>--late-landings</c> says otherwise.</summary>
    public const double DefaultLateLandingShare = 0.3;

    /// <summary>Polls an async task takes normally, and in a slow phase (past the polling deadline Bridge is given).</summary>
    public const int NormalPolls = 3;

    private enum FaultKind
    {
        Latency,
        ServerErrors,
        Throttling,
        Hangs,
        LostAnswers,
        SlowAsyncTasks,
    }

    public static IReadOnlyList<ChaosAction> Build(
        int seed, int publications, int kills, int restarts, bool canRestartServices, bool hasPostgres, bool faults = true, int pauses = 0, TimeSpan? claimLease = null,
        double lateLandings = DefaultLateLandingShare, IReadOnlyList<(int Publication, string PaymentNumber, decimal Amount)>? statementLines = null, int managerCorrections = 0)
    {
        var random = new Random(unchecked((seed * 131) + 17));
        var actions = new List<ChaosAction>();
        var n = Math.Max(publications, 1);

        // Fault phases: the first five cover every kind (in a seeded order), then calm or random ones.
        var phaseLength = Math.Max(8, n / 14);
        var kinds = Enum.GetValues<FaultKind>().OrderBy(_ => random.Next()).ToList();
        var phase = 0;
        for (var at = 0; faults && at < n; at += phaseLength, phase++)
        {
            if (phase < kinds.Count)
            {
                actions.Add(Phase(random, at, [kinds[phase]]));
            }
            else if (random.NextDouble() < 0.2)
            {
                actions.Add(new SetFaults(at, "calm", [], NormalPolls));
            }
            else
            {
                var mix = Enum.GetValues<FaultKind>().Where(_ => random.NextDouble() < 0.45).ToList();
                actions.Add(Phase(random, at, mix.Count == 0 ? [kinds[random.Next(kinds.Count)]] : mix));
            }
        }

        // Late landings are drawn apart too (like pauses, below), so a seed's other phases stay what they were before them:
        // added to a share of the phases that fault at all (--late-landings; 0 adds none), and always to the first such phase
        // after the opening ones.
        if (faults && lateLandings > 0)
        {
            var landing = new Random(unchecked((seed * 7907) + 5));
            static bool Faulting(SetFaults set) => set.Rules.Count > 0 || set.PollsToComplete != NormalPolls;
            var faulting = Enumerable.Range(0, actions.Count).Where(i => actions[i] is SetFaults set && Faulting(set)).ToList();
            var always = faulting.Count == 0 ? -1 : faulting[Math.Min(faulting.Count - 1, 2)];
            for (var i = 0; i < actions.Count; i++)
            {
                if (actions[i] is SetFaults set && Faulting(set) && (landing.NextDouble() < lateLandings || i == always))
                {
                    var rule = LateLanding(landing);
                    actions[i] = set with { Rules = [.. set.Rules, rule], Description = set.Description + "; " + DescribeLateLanding(rule) };
                }
            }
        }

        for (var i = 0; i < kills; i++)
        {
            actions.Add(new KillInstance(Position(random, n, 0.05, 0.92), random.Next(2), TimeSpan.FromMilliseconds(200 + random.Next(2800))));
        }

        if (canRestartServices)
        {
            for (var i = 0; i < restarts; i++)
            {
                var slice = 1.0 / restarts;
                actions.Add(new RestartBroker(Position(random, n, (i + 0.2) * slice, (i + 0.6) * slice)));
                if (hasPostgres)
                {
                    actions.Add(new RestartDatabase(Position(random, n, (i + 0.5) * slice, (i + 0.9) * slice), TimeSpan.FromSeconds(1 + (random.NextDouble() * 4))));
                }
            }
        }

        foreach (var share in new[] { 0.3, 0.6, 0.9 })
        {
            actions.Add(new ReplayDeadLetters((int)(n * share)));
        }

        actions.Add(new ReplayThenKill(Position(random, n, 0.5, 0.95), random.Next(2), TimeSpan.FromMilliseconds(random.Next(80))));

        // Drawn apart, so a seed's other disturbances stay what they were before pauses existed.
        var pausing = new Random(unchecked((seed * 7919) + 3));
        var lease = claimLease ?? TimeSpan.FromSeconds(10);
        for (var i = 0; i < pauses; i++)
        {
            actions.Add(new PauseInstance(Position(pausing, n, 0.05, 0.9), pausing.Next(2), lease * (1.2 + pausing.NextDouble())));
        }

        // Drawn apart as well: a seed's other disturbances stay what they were before managers existed.
        if (statementLines is { Count: > 0 })
        {
            var managing = new Random(unchecked((seed * 7927) + 11));
            for (var i = 0; i < managerCorrections; i++)
            {
                var line = statementLines[managing.Next(statementLines.Count)];
                var amount = managing.Next(2) == 0 ? line.Amount : Math.Round(1m + (decimal)(managing.NextDouble() * 49), 2);
                actions.Add(new ManagerCorrection(line.Publication, line.PaymentNumber, amount));
            }
        }

        return [.. actions.OrderBy(a => a.AtPublication)];
    }

    private static int Position(Random random, int n, double from, double to) =>
        Math.Clamp((int)(n * (from + (random.NextDouble() * (to - from)))), 0, n - 1);

    private static SetFaults Phase(Random random, int at, IReadOnlyList<FaultKind> kinds)
    {
        var rules = new List<FaultRule>();
        var described = new List<string>();
        var polls = NormalPolls;
        foreach (var kind in kinds)
        {
            if (kind == FaultKind.SlowAsyncTasks)
            {
                polls = 30 + random.Next(40);
                described.Add($"async tasks complete on poll {polls} (past the polling deadline)");
                continue;
            }

            var path = Paths[random.Next(Paths.Length)];
            var rule = kind switch
            {
                FaultKind.Latency => new FaultRule { PathContains = path, LatencyMs = 50 + random.Next(600) },
                FaultKind.ServerErrors => new FaultRule
                {
                    PathContains = path,
                    Method = WriteMethods[random.Next(WriteMethods.Length)],
                    ErrorRate = Rate(random, 0.15, 0.5),
                    ErrorStatus = new[] { 500, 502, 503, 504 }[random.Next(4)],
                },
                FaultKind.Throttling => new FaultRule { PathContains = path, ThrottleRate = Rate(random, 0.1, 0.4), RetryAfterSeconds = 1 + random.Next(2) },
                FaultKind.Hangs => new FaultRule { PathContains = path, HangRate = Rate(random, 0.05, 0.2) },
                _ => new FaultRule { PathContains = path, Method = WriteMethods[random.Next(WriteMethods.Length)], LoseAnswerRate = Rate(random, 0.15, 0.5) },
            };
            rules.Add(rule);
            described.Add(Describe(kind, rule));
        }

        return new SetFaults(at, string.Join("; ", described), rules, polls);
    }

    /// <summary>A call answered 502/503/504 at once and carried out 50 ms to <see cref="LateLandingMaxMs"/> later.</summary>
    private static FaultRule LateLanding(Random random) => new()
    {
        PathContains = Paths[random.Next(Paths.Length)],
        Method = WriteMethods[random.Next(WriteMethods.Length)],
        LandLateRate = Rate(random, 0.15, 0.5),
        LandLateMinMs = 50,
        LandLateMaxMs = LateLandingMaxMs,
        LostAnswerStatus = new[] { 502, 503, 504 }[random.Next(3)],
    };

    private static string DescribeLateLanding(FaultRule rule) => string.Create(CultureInfo.InvariantCulture,
        $"{rule.LostAnswerStatus} at once, carried out {rule.LandLateMinMs}-{rule.LandLateMaxMs}ms after arrival, on {rule.LandLateRate:P0} of {rule.Method ?? "any"} {rule.PathContains ?? "*"}");

    private static double Rate(Random random, double from, double to) => Math.Round(from + (random.NextDouble() * (to - from)), 2);

    private static string Describe(FaultKind kind, FaultRule rule)
    {
        var where = $"{rule.Method ?? "any"} {rule.PathContains ?? "*"}";
        return kind switch
        {
            FaultKind.Latency => string.Create(CultureInfo.InvariantCulture, $"latency {rule.LatencyMs}ms on {where}"),
            FaultKind.ServerErrors => string.Create(CultureInfo.InvariantCulture, $"{rule.ErrorStatus} on {rule.ErrorRate:P0} of {where}"),
            FaultKind.Throttling => string.Create(CultureInfo.InvariantCulture, $"429 Retry-After {rule.RetryAfterSeconds}s on {rule.ThrottleRate:P0} of {where}"),
            FaultKind.Hangs => string.Create(CultureInfo.InvariantCulture, $"hang past the client timeout on {rule.HangRate:P0} of {where}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"answer lost after the effect on {rule.LoseAnswerRate:P0} of {where}"),
        };
    }
}
