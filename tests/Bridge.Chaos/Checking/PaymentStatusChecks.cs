using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// A payment's status by id (complete by id, pay from balance, cancel), per payment: at most one status change in
/// ActivePlatform; every success names the status the payment really has, and one that says it acted is backed by that
/// change; a message is not refused when ActivePlatform shows the very change it asked for (a retry after a lost answer
/// must read back, not report a refusal); and no change happened that no success reports.
/// </summary>
public sealed class PaymentStatusChecks : IFlowCheck
{
    private static readonly Dictionary<string, string> StatusOf = new(StringComparer.Ordinal)
    {
        [EffectKinds.PaymentCompleted] = "completed",
        [EffectKinds.PaymentPaidFromBalance] = "paid_from_balance",
        [EffectKinds.PaymentCancelled] = "cancelled",
    };

    public IEnumerable<Violation> Check(MessageIndex index)
    {
        foreach (var payment in FlowFacts.BySubject(index, Flow.PaymentStatus))
        {
            var messages = payment.ToList();
            var id = payment.Key;
            var final = index.Run.Sandbox.Payments.FirstOrDefault(p => p.Id == id)?.Status;
            var changes = index.Run.Effects.Where(e => e.Subject == id && StatusOf.ContainsKey(e.Kind)).OrderBy(e => e.Sequence).ToList();
            if (changes.Count > 1)
            {
                yield return new Violation(Invariants.EffectCount, id, $"{changes.Count} status changes: {string.Join(", ", changes.Select(c => c.Kind))}", messages);
            }

            var successes = FlowFacts.Successes(index, messages);
            foreach (var success in successes)
            {
                var (status, alreadyApplied, reportedStatus) = success switch
                {
                    PaymentCompleted c => (c.Mode == PaymentCompletionMode.FromBalance ? "paid_from_balance" : "completed", c.AlreadyApplied, c.PaymentStatus),
                    PaymentCancelled c => ("cancelled", c.AlreadyApplied, c.PaymentStatus),
                    _ => (null, false, null),
                };
                if (status is null)
                {
                    continue;
                }

                if (status != final || (reportedStatus is not null && reportedStatus != final))
                {
                    yield return new Violation(Invariants.Figures, id, $"{success.GetType().Name} says {reportedStatus ?? status}, the payment is {final}", index.Members(success.MessageId));
                }

                if (!alreadyApplied && !changes.Any(c => StatusOf[c.Kind] == status))
                {
                    yield return new Violation(Invariants.EffectBehindSuccess, id, $"{success.GetType().Name} (not already applied) but ActivePlatform made no change to {status}", index.Members(success.MessageId));
                }
            }

            foreach (var (message, refusal) in FlowFacts.RefusedByActivePlatform(index, messages))
            {
                var asked = Target(message.Payload!);
                if (asked == final && changes.Any(c => StatusOf[c.Kind] == asked))
                {
                    yield return new Violation(Invariants.RightOutcome, id, $"refused although ActivePlatform shows the payment {final}, as asked: {EventText.Describe(refusal)}", [message]);
                }
            }

            foreach (var change in changes.Where(c => !successes.Any(s => Target(s) == StatusOf[c.Kind])))
            {
                if (!FlowFacts.AnyUnsettled(index, messages))
                {
                    yield return new Violation(Invariants.EffectCount, id, $"ActivePlatform changed the payment to {StatusOf[change.Kind]} (effect #{change.Sequence}) but no success reports it", messages);
                }
            }
        }
    }

    private static string? Target(object payloadOrEvent) => payloadOrEvent switch
    {
        CompletePayment { Mode: PaymentCompletionMode.FromBalance } => "paid_from_balance",
        CompletePayment => "completed",
        CancelPayment => "cancelled",
        PaymentCompleted { Mode: PaymentCompletionMode.FromBalance } => "paid_from_balance",
        PaymentCompleted => "completed",
        PaymentCancelled => "cancelled",
        _ => null,
    };
}
