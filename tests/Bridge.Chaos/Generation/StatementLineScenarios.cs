using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// Bank-statement lines completing a payment by its number: one full line, an overpayment, a line on a payment already
/// closed, or two partial lines for one payment (each with its own external transaction id, racing). Lines are delivered
/// twice, republished under a new message id (same statement line: no second effect), given another amount under a used
/// message id (a conflict), or republished under a new id with another amount (the same line: never applied twice).
/// </summary>
public sealed class StatementLineScenarios : ScenarioFamily
{
    private int _payments;

    public override Flow Flow => Flow.StatementLines;

    public override double Weight => 1.5;

    public override IScenario Plan(GenerationContext context)
    {
        var n = ++_payments;
        var total = context.Pick(new[] { 100m, 250m, 80.5m, 1999.99m });
        var roll = context.NextDouble();
        var (kind, status, amounts) = roll switch
        {
            < 0.3 => ("full", "waiting_for_payment", new decimal?[] { context.Chance(0.5) ? total : null }),
            < 0.45 => ("overpaid", "waiting_for_payment", [decimal.Round(total * 1.2m, 2)]),
            < 0.55 => ("already closed", "completed", [decimal.Round(total / 2, 2)]),
            < 0.65 => ("expired", "expired", [total]),
            _ => ("two partial lines", "waiting_for_payment", [decimal.Round(total * 0.4m, 2), decimal.Round(total * 0.3m, 2)]),
        };
        var payment = context.World.AddPayment(new PaymentSpec { Total = total, Status = status });
        var lines = amounts.Select((amount, i) => new LinePlan(
            i + 1,
            amount,
            Odd: context.Chance(0.1),
            Currency: context.Chance(0.3),
            Duplicate: context.Chance(0.15),
            Republish: context.Chance(0.15),
            Conflict: context.Chance(0.06),
            ChangedAmount: context.Chance(0.05))).ToList();
        var size = lines.Sum(l => 1 + (l.Duplicate ? 1 : 0) + (l.Republish ? 1 : 0) + (l.Conflict ? 1 : 0) + (l.ChangedAmount ? 1 : 0));
        var order = context.Permutation(size);
        return new Scenario(size, c => GenerationContext.Arrange([.. Emit(c, n, kind, payment, lines)], order));
    }

    private sealed record LinePlan(int Number, decimal? Amount, bool Odd, bool Currency, bool Duplicate, bool Republish, bool Conflict, bool ChangedAmount);

    private IEnumerable<Publication> Emit(GenerationContext context, int n, string kind, PaymentSpec payment, List<LinePlan> lines)
    {
        var number = payment.Payment.Number;
        foreach (var line in lines)
        {
            // 2–255 Latin/Cyrillic letters, digits, ASCII punctuation: odd ones use the Cyrillic and the punctuation.
            var transaction = line.Odd
                ? string.Create(CultureInfo.InvariantCulture, $"выписка-{n}/{line.Number}#\"q\"")
                : string.Create(CultureInfo.InvariantCulture, $"stmt-{n}-{line.Number}");
            var message = new CompletePayment
            {
                Mode = PaymentCompletionMode.ByPaymentNumber,
                PaymentNumber = number,
                PaymentMethodId = 2,
                Amount = line.Amount,
                CurrencyCode = line.Currency ? "USD" : null,
                ExternalTransactionId = transaction,
            };
            var what = $"statement line {transaction} of {Money(line.Amount)} for payment {number} ({kind}, total {payment.Total.ToString(CultureInfo.InvariantCulture)})";
            // Another amount for the same line (under a new id, or under this one): whichever comes first is applied, and
            // every other message of the line, republishes included, may be answered as a conflict.
            var expectation = line.ChangedAmount || line.Conflict ? Expectation.ValidOrConflict : Expectation.Valid;
            var original = context.Message(Flow, message, number, what, expectation);
            foreach (var publication in GenerationContext.Publish(original, line.Duplicate))
            {
                yield return publication;
            }

            if (line.Republish)
            {
                yield return new Publication(context.Message(Flow, message, number, what + ", republished under a new id", expectation), 0);
            }

            if (line.Conflict)
            {
                // It may win the id and still meet the line already applied with the original amount (by a republish under a new id).
                var amount = (line.Amount ?? payment.Total) + 1;
                yield return new Publication(context.Message(Flow, message with { Amount = amount }, number,
                    $"{what} with another amount ({Money(amount)}) under the id of #{original.Ordinal}", Expectation.ValidOrConflict, idempotencyKey: original.IdempotencyKey), 0);
            }

            if (line.ChangedAmount)
            {
                var amount = (line.Amount ?? payment.Total) + 3;
                yield return new Publication(context.Message(Flow, message with { Amount = amount }, number,
                    $"{what} republished under a new id with another amount ({Money(amount)})", expectation), 0);
            }
        }
    }

    private static string Money(decimal? amount) => amount?.ToString(CultureInfo.InvariantCulture) ?? "the payment's total";
}
