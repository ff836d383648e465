using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Statement lines (completion by payment number), per line (payment number + external transaction id), against the
/// sandbox's ledger of applied lines:
/// <list type="bullet">
/// <item>a line is applied at most once, whatever was republished or retried;</item>
/// <item>a <c>PaymentCompleted</c> for a line is backed by that line in ActivePlatform (not by another line's effect);</item>
/// <item>its figures are the line's: the amount ActivePlatform applied, the correction that line made, and the outcome the
/// documented matrix gives for the payment's status before and after;</item>
/// <item>a line every message of which was answered without success was not applied; a valid line is not refused.</item>
/// </list>
/// </summary>
public sealed class StatementLineChecks : IFlowCheck
{
    public IEnumerable<Violation> Check(MessageIndex index)
    {
        foreach (var payment in FlowFacts.BySubject(index, Flow.StatementLines))
        {
            var number = payment.Key;
            var total = FlowFacts.Money(index.Run.Sandbox.Payments.FirstOrDefault(p => p.Number == number)?.Total);
            var applied = FlowFacts.Effects(index, EffectKinds.PaymentLineApplied, number);
            foreach (var line in payment.GroupBy(m => ((CompletePayment)m.Payload!).ExternalTransactionId!, StringComparer.Ordinal))
            {
                var messages = line.ToList();
                var subject = $"{number} line {line.Key}";
                var effects = applied.Where(e => e.Details.GetValueOrDefault("externalTransactionId") == line.Key).ToList();
                var successes = FlowFacts.Successes(index, messages).OfType<PaymentCompleted>().ToList();

                if (effects.Count > 1)
                {
                    yield return new Violation(Invariants.EffectCount, subject, $"the line was applied {effects.Count} times (effects {string.Join(", ", effects.Select(e => "#" + e.Sequence))})", messages);
                }

                if (successes.Count > 0 && effects.Count == 0)
                {
                    yield return new Violation(Invariants.EffectBehindSuccess, subject,
                        $"PaymentCompleted reported (correction {successes[0].CorrectionId}), but ActivePlatform never applied this line", messages);
                }

                if (successes.Count == 0 && effects.Count > 0 && !FlowFacts.AnyUnsettled(index, messages))
                {
                    yield return new Violation(Invariants.EffectCount, subject, "every message of the line was answered without success, yet ActivePlatform applied it", messages);
                }

                if (effects.Count == 1)
                {
                    foreach (var violation in Figures(index, subject, effects[0], total, successes))
                    {
                        yield return violation;
                    }
                }

                foreach (var (message, refusal) in FlowFacts.RefusedByActivePlatform(index, messages).Where(r => Expectations.Of(index, r.Message) == Expectation.Valid))
                {
                    yield return new Violation(Invariants.RightOutcome, subject, $"a valid statement line was refused: {EventText.Describe(refusal)}", [message]);
                }
            }
        }
    }

    private static IEnumerable<Violation> Figures(MessageIndex index, string subject, SandboxEffect line, decimal? total, List<PaymentCompleted> successes)
    {
        var amount = FlowFacts.Money(line.Details["amount"]);
        var correction = line.Details.GetValueOrDefault("correctionId");
        var expected = Expected(line.Details["statusBefore"], line.Details["statusAfter"], amount, total);
        foreach (var success in successes)
        {
            var problems = new List<string>();
            if (success.Amount is { } reported && reported != amount)
            {
                problems.Add($"amount {EventText.Money(reported)} (ActivePlatform applied {EventText.Money(amount)})");
            }

            if (success.CorrectionId != correction)
            {
                problems.Add($"correction {success.CorrectionId ?? "none"} (this line made {correction ?? "none"})");
            }

            if (success.Outcome != expected)
            {
                problems.Add($"outcome {success.Outcome} (the matrix gives {expected}: {line.Details["statusBefore"]} → {line.Details["statusAfter"]}, {EventText.Money(amount)} of {EventText.Money(total)})");
            }

            if (problems.Count > 0)
            {
                yield return new Violation(Invariants.Figures, subject, "PaymentCompleted reports " + string.Join("; ", problems), index.Members(success.MessageId));
            }
        }
    }

    /// <summary>The documented matrix (REFERENCE.md §2.5), read from the sandbox's own record of the line.</summary>
    private static PaymentCompletionOutcome Expected(string? before, string? after, decimal? amount, decimal? total)
    {
        static bool Closed(string? status) => status is "pending_billing" or "completed" or "paid_from_balance" or "cancelled";
        if (Closed(before))
        {
            return PaymentCompletionOutcome.AlreadyClosed;
        }

        if (!Closed(after))
        {
            return PaymentCompletionOutcome.PartiallyPaid;
        }

        return amount > total ? PaymentCompletionOutcome.Overpaid : PaymentCompletionOutcome.Completed;
    }
}
