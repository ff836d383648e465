using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Once faults stopped, every instance ran and every dead letter was replayed, nothing may be stuck: the outbox drained,
/// no live claim, no dead letter still Replaying, every queue (input and <c>_error</c>) empty, and every dead letter left
/// is one only an operator can settle (an unknown outcome, or a body that cannot be read).
/// </summary>
public sealed class LeftOverChecks : IFlowCheck
{
    /// <summary>Dead letters an operator must settle; anything else should have gone through once faults stopped and it was replayed.</summary>
    public static bool NeedsAnOperator(DeadLetterSummary letter) =>
        letter.ExceptionType.Contains("OutcomeUnknown", StringComparison.Ordinal)
        || letter.ExceptionType.EndsWith("JsonException", StringComparison.Ordinal)
        || letter.ExceptionType.EndsWith("SerializationException", StringComparison.Ordinal);

    public IEnumerable<Violation> Check(MessageIndex index)
    {
        var run = index.Run;
        if (run.LeftOvers.PendingOutbox > 0)
        {
            yield return new Violation(Invariants.NothingStuck, "outbox", $"{run.LeftOvers.PendingOutbox} result event(s) never left the outbox", []);
        }

        foreach (var claim in run.LeftOvers.LiveClaims)
        {
            yield return new Violation(Invariants.NothingStuck, claim.DocumentKey,
                $"claim on {claim.Scope}/{EventText.Visible(claim.DocumentKey)} still held by {claim.ClaimedBy} until {claim.ExpiresAt:O}", MessagesAbout(index, claim.DocumentKey));
        }

        foreach (var (queue, count) in run.LeftOvers.ReadyMessages.Where(q => q.Value > 0))
        {
            yield return new Violation(Invariants.NothingStuck, queue, $"{count} message(s) left on queue {queue}", []);
        }

        foreach (var letter in run.DeadLetters.Where(l => l.Status == "Replaying"))
        {
            yield return new Violation(Invariants.NothingStuck, letter.MessageId ?? letter.Id.ToString(), $"dead letter {letter.Id} is still Replaying", MessagesWithKey(index, letter.MessageId));
        }

        foreach (var letter in run.DeadLetters.Where(l => l.Status == "Pending" && !NeedsAnOperator(l)))
        {
            yield return new Violation(Invariants.Stranded, letter.ErpKey ?? letter.MessageId ?? letter.Id.ToString(),
                $"dead letter still pending after faults stopped and it was replayed: {letter.ExceptionType}: {letter.ExceptionMessage}", MessagesWithKey(index, letter.MessageId));
        }

        if (run.UnreadableEvents > 0)
        {
            yield return new Violation(Invariants.OneOutcome, "events", $"{run.UnreadableEvents} published event(s) could not be read as a result event", []);
        }
    }

    private static IReadOnlyList<PlannedMessage> MessagesWithKey(MessageIndex index, string? key) => key is null ? [] : index.Members(key);

    private static IReadOnlyList<PlannedMessage> MessagesAbout(MessageIndex index, string documentKey) =>
        [.. index.Run.Plan.Messages.Where(m => m.Subject == documentKey || m.Subject.EndsWith("/" + documentKey, StringComparison.Ordinal))];
}
