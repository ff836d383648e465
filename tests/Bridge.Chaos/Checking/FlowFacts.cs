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

    public static string Keys(IEnumerable<PlannedMessage> messages) => string.Join(", ", messages.Select(m => "#" + m.Ordinal.ToString(CultureInfo.InvariantCulture)));
}
