using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>Small readings of the run that several flow checks share.</summary>
public static class FlowFacts
{
    /// <summary>The flow's messages grouped by subject.</summary>
    public static IEnumerable<IGrouping<string, PlannedMessage>> BySubject(MessageIndex index, Flow flow) =>
        index.Run.Plan.Messages.Where(m => m.Flow == flow && m.Payload is not null).GroupBy(m => m.Subject, StringComparer.Ordinal);

    /// <summary>The success results (no rejection) answering these messages, oldest first.</summary>
    public static List<IResultEvent> Successes(MessageIndex index, IEnumerable<PlannedMessage> messages) => [.. index.Successes(messages)];

    /// <summary>True when some of these messages has no settled answer: a pending dead letter, or nothing.</summary>
    public static bool AnyUnsettled(MessageIndex index, IEnumerable<PlannedMessage> messages) =>
        messages.Any(m => index.Outcome(m) is { Result: null });

    /// <summary>The messages whose single answer is a rejection by ActivePlatform, with it.</summary>
    public static IEnumerable<(PlannedMessage Message, IResultEvent Rejection)> RefusedByActivePlatform(MessageIndex index, IEnumerable<PlannedMessage> messages) =>
        messages.Select(m => (m, index.Outcome(m).Result))
            .Where(x => x.Result is not null && EventText.RejectionOf(x.Result) == RejectionReason.RejectedByActivePlatform && !index.Outcome(x.m).IsConflictGroup)
            .Select(x => (x.m, x.Result!));

    public static IReadOnlyList<SandboxEffect> Effects(MessageIndex index, string kindOrPrefix, string? subject = null) =>
        [.. index.Run.Effects.Where(e => (e.Kind == kindOrPrefix || (kindOrPrefix.EndsWith('.') && e.Kind.StartsWith(kindOrPrefix, StringComparison.Ordinal)))
            && (subject is null || e.Subject == subject)).OrderBy(e => e.Sequence)];

    public static decimal? Money(string? text) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>Calls whose answer was lost after the effect, for a call-log key.</summary>
    public static int LostAnswers(MessageIndex index, string callKey) =>
        index.Run.Calls.Count(c => c.ExternalInvoiceKey == callKey && c.Fault == "lost-answer");

    /// <summary>
    /// Kills and database stops within <paramref name="window"/> after one of the effects: each can cut between
    /// ActivePlatform's answer and Bridge's commit, so the redelivery does not know the effect happened.
    /// </summary>
    public static int CrashesAfter(MessageIndex index, IEnumerable<SandboxEffect> effects, TimeSpan window)
    {
        var crashes = index.Run.History.Kills.Select(k => k.At)
            .Concat(index.Run.History.Disturbances.Where(d => d.Kind == "postgresql" && d.Description.StartsWith("stopping", StringComparison.Ordinal)).Select(d => d.At));
        return crashes.Count(at => effects.Any(e => at >= e.At && at - e.At <= window));
    }

    public static string Keys(IEnumerable<PlannedMessage> messages) => string.Join(", ", messages.Select(m => "#" + m.Ordinal.ToString(CultureInfo.InvariantCulture)));
}
