using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// A payment's status by its id: completed by id, paid from balance, cancelled, or two of them racing (only one can win;
/// the other is refused), and a cancel of a payment already completed (refused). Delivered twice and republished under
/// new ids.
/// </summary>
public sealed class PaymentStatusScenarios : ScenarioFamily
{
    private static readonly string[][] Stories =
    [
        ["complete"], ["balance"], ["cancel"], ["complete", "cancel"], ["balance", "complete"], ["cancel", "balance"],
    ];

    public override Flow Flow => Flow.PaymentStatus;

    public override double Weight => 1.2;

    public override IScenario Plan(GenerationContext context)
    {
        var closed = context.Chance(0.12);
        var expired = !closed && context.Chance(0.15);
        var story = closed ? ["cancel"] : context.Pick(Stories);
        var payment = context.World.AddPayment(new PaymentSpec
        {
            Total = 10m + context.Random.Next(1000),
            Status = closed ? "completed" : expired ? "expired" : "waiting_for_payment",
        });
        var steps = story.Select(kind => new Step(kind, context.Chance(0.15), context.Chance(0.15))).ToList();
        var size = steps.Sum(s => 1 + (s.Duplicate ? 1 : 0) + (s.Republish ? 1 : 0));
        var order = context.Permutation(size);
        return new Scenario(size, c => GenerationContext.Arrange([.. Emit(c, payment, steps, closed, expired)], order));
    }

    private sealed record Step(string Kind, bool Duplicate, bool Republish);

    private IEnumerable<Publication> Emit(GenerationContext context, PaymentSpec payment, List<Step> steps, bool closed, bool expired)
    {
        var id = payment.Payment.Id;
        foreach (var step in steps)
        {
            object message = step.Kind switch
            {
                "complete" => new CompletePayment { Mode = PaymentCompletionMode.ById, PaymentId = id, PaymentMethodId = 1 },
                "balance" => new CompletePayment { Mode = PaymentCompletionMode.FromBalance, PaymentId = id },
                _ => new CancelPayment { PaymentId = id },
            };

            // Alone, a step applies (an expired payment cannot be paid from balance or cancelled); racing another, it may be refused.
            var refusedAlone = closed || (expired && step.Kind != "complete");
            var expectation = refusedAlone ? Expectation.Refused : steps.Count > 1 ? Expectation.ValidOrRefused : Expectation.Valid;
            var what = $"{step.Kind} payment {id}{(closed ? " (already completed)" : expired ? " (expired)" : "")}";
            foreach (var publication in GenerationContext.Publish(context.Message(Flow, message, id, what, expectation), step.Duplicate))
            {
                yield return publication;
            }

            if (step.Republish)
            {
                yield return new Publication(context.Message(Flow, message, id, what + ", republished under a new id", expectation), 0);
            }
        }
    }
}
