using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Top-ups, per ERP key: one payment per key (every success for the key names the same payment, and no two keys share
/// one), each reported payment exists in ActivePlatform with the total and account reported, and no top-up payment exists
/// that no key reports (a second create after a lost answer), unless a key is still unsettled.
/// </summary>
public sealed class TopUpChecks : IFlowCheck
{
    public IEnumerable<Violation> Check(MessageIndex index)
    {
        var created = FlowFacts.Effects(index, EffectKinds.PaymentCreated)
            .Where(e => e.Details.GetValueOrDefault("comment")?.StartsWith("Top-up ", StringComparison.Ordinal) == true)
            .ToDictionary(e => e.Subject, StringComparer.Ordinal);
        var owners = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var unsettled = false;
        foreach (var topUp in FlowFacts.BySubject(index, Flow.TopUps))
        {
            var messages = topUp.ToList();
            unsettled |= FlowFacts.AnyUnsettled(index, messages);
            var successes = FlowFacts.Successes(index, messages).OfType<PaymentRegistered>().ToList();
            var payments = successes.Select(s => s.PaymentId).Distinct(StringComparer.Ordinal).ToList();
            if (payments.Count > 1)
            {
                yield return new Violation(Invariants.EffectCount, topUp.Key, $"one top-up key, {payments.Count} payments reported: {string.Join(", ", payments)}", messages);
            }

            foreach (var paymentId in payments)
            {
                if (!owners.TryGetValue(paymentId, out var keys))
                {
                    owners[paymentId] = keys = [];
                }

                keys.Add(topUp.Key);
            }

            foreach (var success in successes)
            {
                if (!created.TryGetValue(success.PaymentId, out var payment))
                {
                    yield return new Violation(Invariants.EffectBehindSuccess, topUp.Key, $"PaymentRegistered names payment {success.PaymentId}, which ActivePlatform never created as a top-up", index.Members(success.MessageId));
                    continue;
                }

                var total = FlowFacts.Money(payment.Details["total"]);
                if (total != success.Total || payment.Details["accountId"] != success.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    yield return new Violation(Invariants.Figures, topUp.Key,
                        $"PaymentRegistered reports {EventText.Money(success.Total)} for account {success.AccountId}; payment {success.PaymentId} is {payment.Details["total"]} for account {payment.Details["accountId"]}",
                        index.Members(success.MessageId));
                }
            }
        }

        foreach (var (paymentId, keys) in owners.Where(o => o.Value.Count > 1))
        {
            yield return new Violation(Invariants.EffectCount, paymentId, $"payment {paymentId} is reported as the top-up of {keys.Count} keys: {string.Join(", ", keys.Select(EventText.Visible))}",
                [.. keys.SelectMany(k => index.Run.Plan.Messages.Where(m => m.Flow == Flow.TopUps && m.Subject == k))]);
        }

        if (!unsettled)
        {
            foreach (var orphan in created.Values.Where(c => !owners.ContainsKey(c.Subject)))
            {
                yield return new Violation(Invariants.EffectCount, orphan.Subject,
                    $"top-up payment {orphan.Subject} ({orphan.Details["comment"]}, {orphan.Details["total"]}) was created, but no key reports it", []);
            }
        }
    }
}
