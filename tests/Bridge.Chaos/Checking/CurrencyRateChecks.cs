using System.Globalization;
using Bridge.Chaos.Generation;
using Bridge.Chaos.Model;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Currency rates, per (reseller, pair), against the sandbox's ledger of rate writes (each rate value belongs to one batch,
/// so a write names its batch's effective time):
/// <list type="bullet">
/// <item>the effective times written never go back (no older rate over a newer one);</item>
/// <item>every pair a <c>CurrencyRatesUpdated</c> lists as applied was written with that batch's rate;</item>
/// <item>ActivePlatform ends with the newest rate reported applied (or unchanged), and with no newer one nobody reported;</item>
/// <item>a skipped pair names an applied time later than its own.</item>
/// </list>
/// </summary>
public sealed class CurrencyRateChecks : IFlowCheck
{
    public IEnumerable<Violation> Check(MessageIndex index)
    {
        var batches = index.Run.Plan.Messages.Where(m => m.Flow == Flow.CurrencyRates && m.Payload is UpdateCurrencyRates).ToList();
        if (batches.Count == 0)
        {
            yield break;
        }

        // Which batch a written value belongs to: (reseller, foreign, rate) → its effective time and messages.
        var owners = batches
            .SelectMany(m => ((UpdateCurrencyRates)m.Payload!).Rates.Select(r => (Key: Key(Reseller(m), r.ForeignCurrency, r.Rate), Message: m)))
            .GroupBy(x => x.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Message).ToList(), StringComparer.Ordinal);
        var pairs = batches.SelectMany(m => ((UpdateCurrencyRates)m.Payload!).Rates.Select(r => (Reseller: Reseller(m), r.ForeignCurrency))).Distinct();
        var results = batches.Select(m => m.IdempotencyKey).Distinct(StringComparer.Ordinal).Select(k => (Key: k, Result: index.Outcome(k).Result)).ToList();
        var unsettled = FlowFacts.AnyUnsettled(index, batches);

        foreach (var (reseller, foreign) in pairs)
        {
            var subject = CurrencyRateScenarios.Subject(reseller, foreign);
            var pair = $"{CurrencyRateScenarios.Base}/{foreign}";
            var writes = index.Run.Effects
                .Where(e => e.Kind == EffectKinds.CurrencyRateSet && e.ResellerId == reseller && e.Subject == pair)
                .OrderBy(e => e.Sequence)
                .Select(e => (Effect: e, Batch: owners.GetValueOrDefault(Key(reseller, foreign, FlowFacts.Money(e.Details["rate"]) ?? 0))))
                .Where(w => w.Batch is not null)
                .ToList();

            DateTimeOffset? newest = null;
            List<PlannedMessage>? newestBy = null;
            foreach (var (effect, owner) in writes)
            {
                var at = EffectiveAt(owner![0]);
                if (newest is { } before && at < before)
                {
                    yield return new Violation(Invariants.Ordering, subject,
                        $"the rate effective {at:O} was written (effect #{effect.Sequence}) after the one effective {before:O}", [.. owner, .. newestBy!]);
                }
                else
                {
                    newest = at;
                    newestBy = owner;
                }
            }

            var reported = new List<(DateTimeOffset At, string Key)>();
            foreach (var (key, result) in results)
            {
                if (result is CurrencyRatesUpdated updated && updated.ResellerId == reseller)
                {
                    foreach (var rate in updated.Applied.Where(r => r.ForeignCurrency == foreign))
                    {
                        reported.Add((updated.EffectiveAt, key));
                        if (!writes.Any(w => FlowFacts.Money(w.Effect.Details["rate"]) == rate.Rate))
                        {
                            yield return new Violation(Invariants.EffectBehindSuccess, subject,
                                $"CurrencyRatesUpdated lists {pair}={rate.Rate.ToString(CultureInfo.InvariantCulture)} as applied, ActivePlatform never received it", index.Members(key));
                        }

                        if (!index.Members(key).Any(m => ((UpdateCurrencyRates)m.Payload!).Rates.Any(r => r.ForeignCurrency == foreign && r.Rate == rate.Rate)))
                        {
                            yield return new Violation(Invariants.Figures, subject, $"CurrencyRatesUpdated lists {pair}={rate.Rate.ToString(CultureInfo.InvariantCulture)}, not the rate the batch carried", index.Members(key));
                        }
                    }

                    reported.AddRange(updated.Unchanged.Where(u => u.ForeignCurrency == foreign).Select(_ => (updated.EffectiveAt, key)));
                }

                var skippedPairs = result switch
                {
                    CurrencyRatesUpdated u => u.Skipped,
                    CurrencyRatesSkipped s => s.Skipped,
                    _ => [],
                };
                var batchAt = index.Members(key).Select(m => ((UpdateCurrencyRates)m.Payload!).EffectiveAt).First();
                foreach (var skipped in skippedPairs.Where(s => s.ForeignCurrency == foreign && s.AppliedEffectiveAt <= batchAt))
                {
                    yield return new Violation(Invariants.Ordering, subject, $"skipped as older although the rate applied is effective {skipped.AppliedEffectiveAt:O}, not later than {batchAt:O}", index.Members(key));
                }
            }

            var current = index.Run.Sandbox.CurrentRates.FirstOrDefault(r => r.ResellerId == reseller && r.BaseCurrency == CurrencyRateScenarios.Base && r.ForeignCurrency == foreign);
            var currentOwner = current is null ? null : owners.GetValueOrDefault(Key(reseller, foreign, FlowFacts.Money(current.Rate) ?? 0));
            if (reported.Count > 0 && currentOwner is not null)
            {
                var newestReported = reported.Max(r => r.At);
                var held = EffectiveAt(currentOwner[0]);
                if (held < newestReported)
                {
                    yield return new Violation(Invariants.Ordering, subject,
                        $"ActivePlatform holds the rate effective {held:O}, but the one effective {newestReported:O} was reported applied", [.. currentOwner, .. reported.Where(r => r.At == newestReported).SelectMany(r => index.Members(r.Key))]);
                }
                else if (held > newestReported && !unsettled)
                {
                    yield return new Violation(Invariants.EffectCount, subject,
                        $"ActivePlatform holds the rate effective {held:O}, which no answered batch reports applied", currentOwner);
                }
            }
        }
    }

    private static long Reseller(PlannedMessage message) => ((UpdateCurrencyRates)message.Payload!).ResellerId ?? 1;

    private static DateTimeOffset EffectiveAt(PlannedMessage message) => ((UpdateCurrencyRates)message.Payload!).EffectiveAt;

    private static string Key(long reseller, string foreign, decimal rate) => string.Create(CultureInfo.InvariantCulture, $"{reseller}/{foreign}/{rate:0.####}");
}
