using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// Rate batches for reseller 1 (now and then 2), two to five per scenario, each effective ten minutes after the previous,
/// published in random order: delivered twice, republished under a new id, another payload under a used id. Every rate
/// value is unique to its batch and pair, so a value in the sandbox's ledger tells which batch wrote it. Later scenarios
/// are later in time, so batches of neighbouring scenarios race too.
/// </summary>
public sealed class CurrencyRateScenarios : ScenarioFamily
{
    public const string Base = "RUB";

    private static readonly string[] Foreign = ["USD", "EUR", "KZT", "BYN", "GBP", "CNY"];
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    private int _scenarios;
    private int _batches;

    public override Flow Flow => Flow.CurrencyRates;

    public override double Weight => 0.8;

    /// <summary>The subject of one pair of one reseller: <c>1/RUB/USD</c>.</summary>
    public static string Subject(long resellerId, string foreign) => string.Create(CultureInfo.InvariantCulture, $"{resellerId}/{Base}/{foreign}");

    public override IScenario Plan(GenerationContext context)
    {
        var s = ++_scenarios;
        var resellerId = context.Chance(0.8) ? 1L : 2L;
        var batches = new List<BatchPlan>();
        var count = 2 + context.Random.Next(4);
        for (var b = 0; b < count; b++)
        {
            var pairs = Foreign.Where(_ => context.Chance(0.5)).DefaultIfEmpty(Foreign[context.Random.Next(Foreign.Length)]).ToList();
            batches.Add(new BatchPlan(
                ++_batches,
                Start.AddHours(s).AddMinutes(10 * b),
                pairs,
                Duplicate: context.Chance(0.15),
                Republish: context.Chance(0.15),
                Conflict: context.Chance(0.06) ? ++_batches : null,
                KeyInBody: context.Chance(0.1)));
        }

        var size = batches.Sum(b => 1 + (b.Duplicate ? 1 : 0) + (b.Republish ? 1 : 0) + (b.Conflict is null ? 0 : 1));
        var order = context.Permutation(size);
        return new Scenario(size, c => GenerationContext.Arrange([.. Emit(c, resellerId, batches)], order));
    }

    private sealed record BatchPlan(int Number, DateTimeOffset EffectiveAt, List<string> Pairs, bool Duplicate, bool Republish, int? Conflict, bool KeyInBody);

    private IEnumerable<Publication> Emit(GenerationContext context, long resellerId, List<BatchPlan> batches)
    {
        foreach (var batch in batches)
        {
            var message = Batch(context, resellerId, batch.Number, batch.EffectiveAt, batch.Pairs);
            var subject = Subject(resellerId, batch.Pairs[0]);
            var original = context.Message(Flow, message, subject, $"rate batch {message.Key} effective {batch.EffectiveAt:O}", keyInBody: batch.KeyInBody);
            foreach (var publication in GenerationContext.Publish(original, batch.Duplicate))
            {
                yield return publication;
            }

            if (batch.Republish)
            {
                yield return new Publication(context.Message(Flow, message, subject, $"rate batch {message.Key}, republished under a new id"), 0);
            }

            if (batch.Conflict is { } other)
            {
                var conflicting = message with { Rates = [.. batch.Pairs.Select((p, i) => Rate(other, p, i))] };
                yield return new Publication(context.Message(Flow, conflicting, subject, $"rate batch {message.Key} with other rates under the id of #{original.Ordinal}",
                    idempotencyKey: original.IdempotencyKey, keyInBody: batch.KeyInBody), 0);
            }
        }
    }

    private static UpdateCurrencyRates Batch(GenerationContext context, long resellerId, int number, DateTimeOffset effectiveAt, List<string> pairs) => new()
    {
        ResellerId = resellerId == 1 ? null : resellerId,
        Key = context.Keys.Key("rates-", number),
        EffectiveAt = effectiveAt,
        Rates = [.. pairs.Select((p, i) => Rate(number, p, i))],
    };

    /// <summary>A value no other batch uses for this pair: the batch number in the units, the pair in the fraction.</summary>
    private static CurrencyRate Rate(int batch, string foreign, int index) => new()
    {
        BaseCurrency = Base,
        ForeignCurrency = foreign,
        Quantity = 1,
        Rate = batch + ((index + 1) / 100m),
    };
}
