using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// Corrections by the ERP's key: the create (delivered twice, republished, a conflicting payload, the key again with
/// another total), then approve, decline, both racing, or nothing. A status change usually follows the create's answer
/// (as an ERP's approval workflow does); sometimes it races the create, and may then be refused for want of a
/// correction. The comment carries the key, so the sandbox's ledger tells whose correction it is.
/// </summary>
public sealed class CorrectionScenarios : ScenarioFamily
{
    private int _corrections;

    public override Flow Flow => Flow.Corrections;

    public override double Weight => 1;

    public static string Comment(int n) => string.Create(CultureInfo.InvariantCulture, $"chaos correction {n}");

    public override IScenario Plan(GenerationContext context)
    {
        var n = ++_corrections;
        var key = context.Keys.Key("corr-", n);
        var total = (context.Chance(0.8) ? 1 : -1) * (1m + context.Random.Next(100_000) / 100m);
        var duplicate = context.Chance(0.15);
        var republish = context.Chance(0.15);
        var conflict = context.Chance(0.08);
        var changedTotal = context.Chance(0.06);
        var roll = context.NextDouble();
        var followUps = roll < 0.45 ? new[] { "approve" } : roll < 0.75 ? ["decline"] : roll < 0.85 ? ["approve", "decline"] : [];
        var steps = followUps.Select(kind => new FollowUp(kind, Races: context.Chance(0.25), Duplicate: context.Chance(0.15), Republish: context.Chance(0.1))).ToList();
        var size = 1 + (duplicate ? 1 : 0) + (republish ? 1 : 0) + (conflict ? 1 : 0) + (changedTotal ? 1 : 0)
            + steps.Sum(s => 1 + (s.Duplicate ? 1 : 0) + (s.Republish ? 1 : 0));
        var order = context.Permutation(size);
        return new Scenario(size, c => GenerationContext.Arrange([.. Emit(c, n, key, total, duplicate, republish, conflict, changedTotal, steps)], order));
    }

    private sealed record FollowUp(string Kind, bool Races, bool Duplicate, bool Republish);

    private IEnumerable<Publication> Emit(
        GenerationContext context, int n, string key, decimal total, bool duplicate, bool republish, bool conflict, bool changedTotal, List<FollowUp> followUps)
    {
        var create = new CreateCorrection { Key = key, AccountId = 523, IncludedInvoice = false, Total = total, Comment = Comment(n) };
        // Another total for the key (under a new id, or under this one): whichever comes first creates the correction, and
        // every other create of the key, republishes included, may be answered as a conflict.
        var expectation = changedTotal || conflict ? Expectation.ValidOrConflict : Expectation.Valid;
        var original = context.Message(Flow, create, key, $"create correction {key} of {total.ToString(CultureInfo.InvariantCulture)}", expectation);
        foreach (var publication in GenerationContext.Publish(original, duplicate))
        {
            yield return publication;
        }

        if (republish)
        {
            yield return new Publication(context.Message(Flow, create, key, $"create correction {key}, republished under a new id", expectation), 0);
        }

        if (conflict)
        {
            // It may win the id and still meet the key already created with the original total (by a republish under a new id).
            yield return new Publication(context.Message(Flow, create with { Total = total + 1 }, key, $"create correction {key} with another total ({Recording.EventText.Money(total + 1)}) under the id of #{original.Ordinal}", Expectation.ValidOrConflict, idempotencyKey: original.IdempotencyKey), 0);
        }

        if (changedTotal)
        {
            yield return new Publication(context.Message(Flow, create with { Total = total + 5 }, key, $"create correction {key} again under a new id with another total ({Recording.EventText.Money(total + 5)})", expectation), 0);
        }

        foreach (var step in followUps)
        {
            // The ERP addresses its own key; Bridge finds the correction it created. (By AP's id it cannot: the ERP does not know it.)
            object payload = step.Kind == "approve" ? new ApproveCorrection { Key = key } : new DeclineCorrection { Key = key };
            var stepExpectation = step.Races || followUps.Count > 1 ? Expectation.ValidOrRefused : Expectation.Valid;
            var after = step.Races ? null : original.IdempotencyKey;
            var message = context.Message(Flow, payload, key, $"{step.Kind} correction {key}{(step.Races ? " (racing the create)" : "")}", stepExpectation, after: after);
            foreach (var publication in GenerationContext.Publish(message, step.Duplicate))
            {
                yield return publication;
            }

            if (step.Republish)
            {
                yield return new Publication(context.Message(Flow, payload, key, $"{step.Kind} correction {key}, republished under a new id", stepExpectation, after: after), 0);
            }
        }
    }
}
