using System.Globalization;
using System.Text.RegularExpressions;
using Bridge.Contracts;
using Bridge.Host.Idempotency;

namespace Bridge.Host.Features.CurrencyRates;

/// <summary>Checks a rate batch before anything reaches ActivePlatform; every problem is named by its JSON field.</summary>
public static partial class CurrencyRateValidation
{
    public const decimal MinAdjustment = 0.0001m;
    public const decimal MaxAdjustment = 1000m;

    /// <summary>More pairs than any currency table has; a bound on one PATCH body.</summary>
    public const int MaxPairs = 500;

    public static List<string> Validate(UpdateCurrencyRates? message)
    {
        var errors = new List<string>();
        if (message is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        if (message.ResellerId is <= 0)
        {
            errors.Add("resellerId: must be positive");
        }

        if (string.IsNullOrWhiteSpace(message.Key))
        {
            errors.Add("key: is required");
        }
        else if (IdempotencyKeys.CharacterProblem("key", message.Key) is { } problem)
        {
            errors.Add(problem);
        }
        else if (message.Key.Length > 128 || message.Key.Any(char.IsWhiteSpace))
        {
            errors.Add("key: must be at most 128 characters with no spaces");
        }

        if (message.EffectiveAt == default)
        {
            errors.Add("effectiveAt: is required (RFC 3339 with an offset), so that an older rate never replaces a newer one");
        }

        if (message.Rates is null || message.Rates.Count == 0)
        {
            errors.Add("rates: at least one rate is required");
            return errors;
        }

        if (message.Rates.Count > MaxPairs)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"rates: at most {MaxPairs} rates per batch"));
        }

        // A batch has one effective time, so two values for one pair in it are contradictory: refused rather than
        // guessing which one the ERP meant.
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < message.Rates.Count; i++)
        {
            var rate = message.Rates[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"rates[{i}]");
            if (rate is null)
            {
                errors.Add($"{at}: is required");
                continue;
            }

            var baseOk = CheckCode(errors, $"{at}.baseCurrency", rate.BaseCurrency);
            var foreignOk = CheckCode(errors, $"{at}.foreignCurrency", rate.ForeignCurrency);
            if (baseOk && foreignOk)
            {
                if (rate.BaseCurrency == rate.ForeignCurrency)
                {
                    errors.Add($"{at}.foreignCurrency: must differ from baseCurrency");
                }
                else if (seen.TryGetValue(PairKey(rate), out var first))
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture, $"{at}: the pair {PairKey(rate)} is already given at rates[{first}]; a batch may name a pair once"));
                }
                else
                {
                    seen[PairKey(rate)] = i;
                }
            }

            if (rate.Quantity < 1)
            {
                errors.Add($"{at}.quantity: must be at least 1");
            }

            if (rate.Rate <= 0)
            {
                errors.Add($"{at}.rate: must be greater than zero");
            }

            if (rate.Adjustment is { } adjustment && (adjustment < MinAdjustment || adjustment > MaxAdjustment))
            {
                errors.Add($"{at}.adjustment: must be within 0.0001..1000");
            }
        }

        return errors;
    }

    /// <summary>The pair's document key: <c>BASE/FOREIGN</c>.</summary>
    public static string PairKey(CurrencyRate rate) => $"{rate.BaseCurrency}/{rate.ForeignCurrency}";

    private static bool CheckCode(List<string> errors, string field, string? code)
    {
        if (code is null || !CurrencyCode().IsMatch(code))
        {
            errors.Add($"{field}: must be a three-letter upper-case ISO 4217 code such as EUR");
            return false;
        }

        return true;
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();
}
