using Bridge.Chaos.Generation;
using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;

namespace Bridge.Chaos.Checking;

/// <summary>
/// The HTTP door's promises, against what the history shows:
/// <list type="bullet">
/// <item>a refusal (4xx) is one the message calls for: 400 only for a body the model says may break the contract, 409 only
/// when another payload (another body or type) under the same key was sent before, 413 only for a body over the limit;
/// never 404, 415 or 401 (the run sends the thirteen types, as JSON, with its configured key);</item>
/// <item>two payloads under one key are never both accepted: the second is a 409;</item>
/// <item>a message answered 202 arrives: the history shows it answered or dead-lettered (the broker confirmed it);</item>
/// <item>once the run is quiet, <c>GET /api/messages/{key}</c> of each accepted message agrees with what happened to it: its
/// success is <c>applied</c> (or <c>skipped</c> for a skip event) with that very event as the result, its rejection
/// <c>rejected</c> with that event, its pending dead letter <c>dead-lettered</c> with that dead letter; <c>conflict</c> only
/// when another payload under the key was refused as a key conflict (this one may be it); never <c>accepted</c>,
/// <c>in-progress</c> or <c>unconfirmed</c> once the message has its one outcome; never a result of another message id.</item>
/// </list>
/// A door resend after a 202 is a publication of the same message like any duplicate delivery, so one outcome per message
/// (<see cref="OutcomeChecks"/>) and the flows' effect counts judge it.
/// </summary>
public sealed class DoorChecks : IFlowCheck
{
    public IEnumerable<Violation> Check(MessageIndex index)
    {
        foreach (var message in index.Run.Plan.Messages)
        {
            var attempts = index.Publications(message).Where(p => p.Door is not null).ToList();
            foreach (var refusal in attempts.Where(p => p.RefusedByDoor))
            {
                if (Unjustified(index, message, refusal) is { } why)
                {
                    yield return new Violation(Invariants.DoorRefusal, message.Subject, why, index.Members(message.IdempotencyKey));
                }
            }

            if (attempts.Any(p => p.Confirmed) && index.AllEvents(message.IdempotencyKey).Count == 0 && index.DeadLetters(message.IdempotencyKey).Count == 0)
            {
                yield return new Violation(Invariants.DoorAccepted, message.Subject,
                    $"the door answered 202 for #{message.Ordinal}, yet it never arrived: no result event, no dead letter", [message]);
            }
        }

        var accepted = index.Run.Plan.Messages
            .Where(m => index.Publications(m).Any(p => p.Door is not null && p.Confirmed))
            .GroupBy(m => m.IdempotencyKey, StringComparer.Ordinal);
        foreach (var key in accepted)
        {
            var members = key.ToList();
            if (members.Count > 1)
            {
                yield return new Violation(Invariants.DoorRefusal, members[0].Subject,
                    $"the door accepted {members.Count} different payloads under one key ({FlowFacts.Keys(members)}): all but the first should have been refused 409",
                    index.Members(key.Key));
            }

            foreach (var violation in CheckStatus(index, members[0], index.Run.DoorStatuses.GetValueOrDefault(key.Key)))
            {
                yield return violation;
            }
        }
    }

    /// <summary>Why a refusal was wrong; null when the message called for it.</summary>
    private static string? Unjustified(MessageIndex index, PlannedMessage message, PublicationRecord refusal)
    {
        var status = refusal.Door!.Status;
        var what = $"the door refused #{message.Ordinal} {status} ({refusal.Door.Answer})";
        switch (status)
        {
            case 400:
                return message.Expectation is Expectation.Invalid or Expectation.InvalidOrUnreadable or Expectation.Unreadable or Expectation.ValidOrInvalid
                    ? null
                    : $"{what}, but it is a well-formed {message.MessageType} (expected {message.Expectation}) that the consumer takes";
            case 409:
                var earlier = index.Members(message.IdempotencyKey)
                    .Where(m => m != message && (m.MessageType != message.MessageType || !m.Body.AsSpan().SequenceEqual(message.Body)))
                    .SelectMany(index.Publications)
                    .Where(p => p.StartedAt < refusal.At)
                    .ToList();
                return earlier.Count > 0
                    ? null
                    : $"{what}, but no other payload under its key was sent before";
            case 413:
                return message.Body.LongLength > DoorRouting.MaxBodyBytes ? null : $"{what}, but its body is {message.Body.Length} bytes";
            default:
                return $"{what}: never right for one of the input messages sent as JSON with the configured ERP key";
        }
    }

    private static IEnumerable<Violation> CheckStatus(MessageIndex index, PlannedMessage message, DoorStatusReading? reading)
    {
        var key = message.IdempotencyKey;
        var group = index.Members(key);
        if (reading is null || reading.HttpStatus != 200)
        {
            yield return new Violation(Invariants.DoorStatus, message.Subject,
                $"the door accepted #{message.Ordinal}, but after quiescence GET /api/messages/{{key}} answered {(reading is null ? "nothing" : reading.HttpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture))}", group);
            yield break;
        }

        if (reading.ResultType is not null && !string.Equals(reading.ResultMessageId, key, StringComparison.Ordinal))
        {
            yield return new Violation(Invariants.DoorStatus, message.Subject,
                $"the door shows for #{message.Ordinal} a {reading.ResultType} of another message id ({EventText.Visible(reading.ResultMessageId)})", group);
        }

        var outcome = index.Outcome(key);
        if (outcome.Results.Count + outcome.PendingDeadLetters.Count != 1)
        {
            // No single outcome for the door to agree with: OutcomeChecks reports that.
            yield break;
        }

        // The accepted payload may be the one of a conflict group refused on the key: then 'conflict' is its answer.
        if (reading.Status == DoorStatuses.Conflict && outcome.IsConflictGroup && outcome.Conflicts.Count > 0)
        {
            yield break;
        }

        string expected;
        bool agrees;
        if (outcome.DeadLettered)
        {
            var letter = outcome.PendingDeadLetters[0];
            expected = $"{DoorStatuses.DeadLettered} with dead letter {letter.Id}";
            agrees = reading.Status == DoorStatuses.DeadLettered && reading.DeadLetterId == letter.Id;
        }
        else
        {
            var result = outcome.Result!;
            var statuses = EventText.RejectionOf(result) is not null ? [DoorStatuses.Rejected, DoorStatuses.Completed]
                : result.GetType().Name.EndsWith("Skipped", StringComparison.Ordinal) ? [DoorStatuses.Skipped, DoorStatuses.Completed]
                : new[] { DoorStatuses.Applied, DoorStatuses.Completed };
            expected = $"{statuses[0]} with its {result.GetType().Name} of {result.OccurredAt:O}";
            agrees = statuses.Contains(reading.Status) && reading.ResultType == result.GetType().Name && SameTime(reading.ResultOccurredAt, result.OccurredAt);
        }

        if (!agrees)
        {
            yield return new Violation(Invariants.DoorStatus, message.Subject,
                $"after quiescence the door says of #{message.Ordinal}: {reading}; the history says {expected}", group);
        }
    }

    private static bool SameTime(DateTimeOffset? shown, DateTimeOffset occurred) =>
        shown is { } at && (at - occurred).Duration() < TimeSpan.FromMilliseconds(1);
}

/// <summary>The statuses <c>GET /api/messages/{key}</c> answers (Bridge's <c>IngressStatus</c>), as the door spells them.</summary>
public static class DoorStatuses
{
    public const string Unconfirmed = "unconfirmed";
    public const string Accepted = "accepted";
    public const string InProgress = "in-progress";
    public const string Applied = "applied";
    public const string Skipped = "skipped";
    public const string Rejected = "rejected";
    public const string DeadLettered = "dead-lettered";
    public const string Discarded = "discarded";
    public const string Completed = "completed";
    public const string Edited = "edited";
    public const string Conflict = "conflict";
}
