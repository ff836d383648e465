using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Every message has exactly one terminal outcome — one result event, or one dead letter that says why — of the kind it
/// calls for. Messages sharing an idempotency key with different payloads (a conflict) are judged together: one of them (the
/// key's owner) is answered, every other publication gets one <c>IdempotencyConflict</c> rejection on the key. The owner's
/// answer may itself be an <c>IdempotencyConflict</c> — on its natural key, when a message under another key applied that
/// statement line, top-up or correction first — and is told from the key conflicts by <see cref="EventText.IsKeyConflict"/>.
/// </summary>
public sealed class OutcomeChecks : IFlowCheck
{
    public IEnumerable<Violation> Check(MessageIndex index)
    {
        // Two messages (two idempotency keys) never share one dead letter: one of the bodies would be lost.
        foreach (var shared in index.Keys.SelectMany(k => index.DeadLetters(k).Select(l => (Key: k, Letter: l))).GroupBy(x => x.Letter.Id).Where(g => g.Count() > 1))
        {
            var keys = shared.Select(x => x.Key).ToList();
            yield return new Violation(Invariants.OneOutcome, shared.First().Letter.MessageId ?? shared.Key.ToString(),
                $"one dead letter ({shared.Key}) stands for {keys.Count} different messages: {string.Join(", ", keys.Select(EventText.Visible))}; replaying it can replay only one body",
                [.. keys.SelectMany(index.Members)]);
        }

        foreach (var key in index.Keys)
        {
            var outcome = index.Outcome(key);
            var members = outcome.Members;
            var subject = members[0].Subject;

            var answers = outcome.Results.Count + outcome.PendingDeadLetters.Count;
            if (answers == 0)
            {
                yield return new Violation(Invariants.OneOutcome, subject, outcome.Conflicts.Count > 0
                    ? $"{members.Count} payloads under one key, every answer an IdempotencyConflict ({outcome.Conflicts.Count}): none of them is answered as applied or refused"
                    : "no terminal outcome: no result event and no pending dead letter (lost, or stuck)", members);
                continue;
            }

            if (answers > 1)
            {
                // README, known limits: an invalid message with no usable key at all cannot be recorded, so it is answered again
                // on each delivery (a redelivery after a kill or a broker restart).
                var unrecordable = outcome.PendingDeadLetters.Count == 0 && !IsUsableKey(key)
                    && outcome.Results.All(r => EventText.RejectionOf(r.Event) == RejectionReason.InvalidMessage);
                yield return new Violation(unrecordable ? Invariants.KnownLimit : Invariants.OneOutcome, subject,
                    $"{outcome.Results.Count} result event(s) and {outcome.PendingDeadLetters.Count} pending dead letter(s) for one message"
                    + (unrecordable ? " (README, known limits: an invalid message with no usable key is answered again on each delivery)" : ""), members);
            }

            foreach (var letter in outcome.PendingDeadLetters.Where(l => string.IsNullOrWhiteSpace(l.ExceptionMessage)))
            {
                yield return new Violation(Invariants.OneOutcome, subject, $"dead letter {letter.Id} does not say why", members);
            }

            if (outcome.IsConflictGroup)
            {
                var attempts = members.Sum(m => Math.Max(1, index.Publications(m).Count));
                if (outcome.Conflicts.Count < members.Count - 1 || outcome.Conflicts.Count > attempts - 1)
                {
                    var shared = outcome.DeadLetters.Count == 0 ? "" : $"; the payloads share {outcome.DeadLetters.Count} dead letter(s) ({string.Join(", ", outcome.DeadLetters.Select(l => $"{l.Id} {l.Status}, {l.FailureCount} failure(s)"))}), which keep one body";
                    yield return new Violation(Invariants.OneOutcome, subject,
                        $"{members.Count} payloads under one key: expected {members.Count - 1} IdempotencyConflict rejection(s) (at most {attempts - 1} with republished attempts), got {outcome.Conflicts.Count}{shared}", members);
                }
            }

            if (answers == 1)
            {
                foreach (var violation in CheckKind(index, outcome, members, subject))
                {
                    yield return violation;
                }
            }
        }
    }

    /// <summary>
    /// Whether Bridge can record an answer under <paramref name="key"/>: at most 200 characters, no C0/C1 control character
    /// and no unpaired surrogate (Bridge's <c>IdempotencyKeys.IsStorable</c>).
    /// </summary>
    public static bool IsUsableKey(string key)
    {
        if (key.Length is 0 or > 200)
        {
            return false;
        }

        for (var i = 0; i < key.Length; i++)
        {
            if (char.IsHighSurrogate(key[i]) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                i++;
            }
            else if (char.IsControl(key[i]) || char.IsSurrogate(key[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The single outcome is of the kind the message's expectation allows.</summary>
    private static IEnumerable<Violation> CheckKind(MessageIndex index, KeyOutcome outcome, IReadOnlyList<PlannedMessage> members, string subject)
    {
        var result = outcome.Result;
        var reason = result is null ? null : EventText.RejectionOf(result);
        var expectation = Expectations.Of(index, members[0]);
        var fits = expectation switch
        {
            Expectation.Unreadable => outcome.DeadLettered,
            Expectation.Invalid => reason == RejectionReason.InvalidMessage,
            Expectation.InvalidOrUnreadable => outcome.DeadLettered || reason == RejectionReason.InvalidMessage,
            Expectation.ValidOrInvalid => true,
            Expectation.ValidOrRefused => reason != RejectionReason.IdempotencyConflict,
            Expectation.ValidOrConflict => reason is null or RejectionReason.IdempotencyConflict,
            Expectation.Refused => outcome.DeadLettered || reason is RejectionReason.RejectedByActivePlatform or RejectionReason.InvalidMessage,
            _ => reason is not (RejectionReason.InvalidMessage or RejectionReason.IdempotencyConflict),
        };

        if (!fits)
        {
            var got = outcome.DeadLettered ? "a dead letter: " + outcome.PendingDeadLetters[0].ExceptionMessage : EventText.Describe(result!);
            yield return new Violation(Invariants.RightOutcome, subject, $"a message expected to end {expectation} ended with {got}", members);
        }
    }
}

/// <summary>What is expected of a message once the run is known.</summary>
public static class Expectations
{
    /// <summary>
    /// The message's expectation, except that a message following another (an approval after its create, a completion
    /// after its approval) may be refused when it went out before that one had succeeded: the ERP gave up waiting.
    /// </summary>
    public static Expectation Of(MessageIndex index, PlannedMessage message)
    {
        if (message.Expectation == Expectation.Valid && message.After is { } after && !SucceededBefore(index, after, message))
        {
            return Expectation.ValidOrRefused;
        }

        return message.Expectation;
    }

    private static bool SucceededBefore(MessageIndex index, string key, PlannedMessage follower)
    {
        var published = index.Publications(follower).Select(p => p.At).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        return index.Results(key).Any(e => EventText.RejectionOf(e.Event) is null && e.ReceivedAt < published);
    }
}
