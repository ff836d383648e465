using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// Top-ups by the ERP's key: delivered twice, republished under a new message id (one payment per key), another payload
/// under a used message id (a conflict), the same key with another total under a new id, and now and then a second key
/// with the very same account, total and comment (which must get its own payment, not adopt the other's).
/// </summary>
public sealed class TopUpScenarios : ScenarioFamily
{
    private int _topUps;

    public override Flow Flow => Flow.TopUps;

    public override double Weight => 1;

    public override IScenario Plan(GenerationContext context)
    {
        var n = ++_topUps;
        var key = context.Keys.Key("topup-", n);
        var account = context.Chance(0.5) ? 523L : 685L;
        var total = 50m + context.Random.Next(45_000) / 100m;
        var purpose = context.Chance(0.3) ? "prepay" : null;
        var duplicate = context.Chance(0.2);
        var republish = context.Chance(0.2);
        var conflict = context.Chance(0.08);
        var changedTotal = context.Chance(0.06);
        var twin = context.Chance(0.08);
        var size = 1 + (duplicate ? 1 : 0) + (republish ? 1 : 0) + (conflict ? 1 : 0) + (changedTotal ? 1 : 0) + (twin ? 1 : 0);
        var order = context.Permutation(size);
        var twinKey = twin ? context.Keys.Key($"topup-{n}-twin-", n) : null;
        return new Scenario(size, c => GenerationContext.Arrange([.. Emit(c, n, key, account, total, purpose, duplicate, republish, conflict, changedTotal, twinKey)], order));
    }

    private IEnumerable<Publication> Emit(
        GenerationContext context, int n, string key, long account, decimal total, string? purpose, bool duplicate, bool republish, bool conflict, bool changedTotal, string? twinKey)
    {
        var comment = string.Create(CultureInfo.InvariantCulture, $"Top-up {n} for account {account}");
        var message = new RegisterPayment { Key = key, AccountId = account, Total = total, Comment = comment, Purpose = purpose };
        // Another total for the key (under a new id, or under this one): whichever comes first creates the payment, and every
        // other message of the key, republishes included, may be answered as a conflict.
        var expectation = changedTotal || conflict ? Expectation.ValidOrConflict : Expectation.Valid;
        var original = context.Message(Flow, message, key, $"top-up {key} of {total}", expectation);
        foreach (var publication in GenerationContext.Publish(original, duplicate))
        {
            yield return publication;
        }

        if (republish)
        {
            yield return new Publication(context.Message(Flow, message, key, $"top-up {key}, republished under a new id", expectation), 0);
        }

        if (conflict)
        {
            // It may win the id and still meet the key already applied with the original total (by a republish under a new id).
            yield return new Publication(context.Message(Flow, message with { Total = total + 1 }, key, $"top-up {key} with another total ({Recording.EventText.Money(total + 1)}) under the id of #{original.Ordinal}", Expectation.ValidOrConflict, idempotencyKey: original.IdempotencyKey), 0);
        }

        if (changedTotal)
        {
            yield return new Publication(context.Message(Flow, message with { Total = total + 10 }, key, $"top-up {key} again under a new id with another total ({Recording.EventText.Money(total + 10)})", expectation), 0);
        }

        if (twinKey is not null)
        {
            yield return new Publication(context.Message(Flow, message with { Key = twinKey }, twinKey, $"another top-up {twinKey} with the same account, total and comment as {key}"), 0);
        }
    }
}
