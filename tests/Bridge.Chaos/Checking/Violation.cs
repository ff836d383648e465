using Bridge.Chaos.Model;

namespace Bridge.Chaos.Checking;

/// <summary>The invariants the run checks; each violation names one.</summary>
public static class Invariants
{
    /// <summary>Every message has exactly one terminal outcome: one result event, or one dead letter that says why.</summary>
    public const string OneOutcome = "one-terminal-outcome";

    /// <summary>The outcome is of the kind the message calls for (a valid message is not rejected as invalid, bad input is never applied…).</summary>
    public const string RightOutcome = "outcome-fits-message";

    /// <summary>Every success event's effect is in ActivePlatform (nothing missing behind a success).</summary>
    public const string EffectBehindSuccess = "effect-behind-success";

    /// <summary>No effect happens more often than the model allows (never twice), and none happens without a message that explains it.</summary>
    public const string EffectCount = "effect-count";

    /// <summary>The figures of a success event equal what ActivePlatform holds.</summary>
    public const string Figures = "figures-match";

    /// <summary>No older revision or rate over a newer one.</summary>
    public const string Ordering = "no-older-over-newer";

    /// <summary>After quiescence nothing is stuck: outbox drained, no live claims, no Replaying dead letters, queues empty.</summary>
    public const string NothingStuck = "nothing-stuck";

    /// <summary>A dead letter left after faults stopped and everything was replayed must be one only an operator can settle.</summary>
    public const string Stranded = "no-stranded-dead-letter";

    /// <summary>The HTTP door refuses (4xx) only what calls for it: a body the contract refuses, a key used before for another payload.</summary>
    public const string DoorRefusal = "door-refusal-justified";

    /// <summary>A message the door answered 202 (the broker confirmed it) arrives: it is answered or dead-lettered.</summary>
    public const string DoorAccepted = "door-202-arrives";

    /// <summary>After quiescence, the door's status of each message it accepted agrees with what happened to it.</summary>
    public const string DoorStatus = "door-status-matches";

    /// <summary>Not a violation: something the README lists as a known limit of exactly-once, reported so it can be counted.</summary>
    public const string KnownLimit = "known-limit";
}

/// <summary>One broken invariant (or, under <see cref="Invariants.KnownLimit"/>, a documented limit seen), with the messages whose history shows it.</summary>
public sealed record Violation(string Invariant, string Subject, string Detail, IReadOnlyList<PlannedMessage> Messages)
{
    public bool IsKnownLimit => Invariant == Invariants.KnownLimit;

    public override string ToString() => $"[{Invariant}] {Subject}: {Detail}";
}
