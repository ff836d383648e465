using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>A rate record as the sandbox holds it (control API view). Money-like values are the strings the API answers with.</summary>
/// <param name="Id">The record's id; every PATCHed pair gets a new record and the previous one stops being current.</param>
public sealed record SandboxCurrencyRate(
    string Id,
    int ResellerId,
    string BaseCurrency,
    string ForeignCurrency,
    int Quantity,
    string Rate,
    string Adjustment,
    bool ShowForClient,
    bool Current,
    DateTimeOffset CreatedAt);

/// <summary>One PATCH <c>currency_rates</c> the sandbox applied, with its pairs as they were sent, in order.</summary>
public sealed record SandboxCurrencyRatePatch(long Sequence, DateTimeOffset ReceivedAt, int ResellerId, IReadOnlyList<SandboxCurrencyRatePatchPair> Pairs);

/// <summary>A pair as a PATCH sent it; <see cref="Adjustment"/> and <see cref="ShowForClient"/> are null when not sent.</summary>
public sealed record SandboxCurrencyRatePatchPair(string BaseCurrency, string ForeignCurrency, int Quantity, string Rate, string? Adjustment, bool? ShowForClient);

/// <summary>
/// Currency rates (REFERENCE.md §3): per reseller, per (base, foreign) pair, a history of rate records of which the last is
/// current. Rates are inherited downstream: a reseller without its own value for a pair uses its nearest ancestor's, and 1
/// when no one set one. Thread-safe: a PATCH is validated as a whole and then applied pair by pair under one lock.
/// </summary>
internal sealed class CurrencyRateStore(EffectLedger ledger)
{
    /// <summary>The reseller currency every sandbox reseller has, as in the documented example.</summary>
    public const string ResellerCurrency = "RUB";

    /// <summary>
    /// The currencies the installation knows, with internal ids (the <c>from_id</c>/<c>to_id</c> of rate records) and units.
    /// The documented GET example lists RUB, BYN, USD, EUR, UAH, GEL, AMD, UZS, AZN, VND, BRL and KZT; the others are
    /// common ISO 4217 codes. A code outside this list is refused with 422 (inferred).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (int Id, string Unit)> Currencies = new[]
    {
        ("RUB", "руб."), ("USD", "$"), ("EUR", "€"), ("BYN", "Br"), ("UAH", "₴"), ("GEL", "₾"), ("AMD", "֏"), ("UZS", "сум"),
        ("AZN", "₼"), ("VND", "₫"), ("BRL", "R$"), ("KZT", "₸"), ("GBP", "£"), ("CNY", "¥"), ("JPY", "¥"), ("CHF", "Fr"),
        ("PLN", "zł"), ("TRY", "₺"), ("INR", "₹"), ("MYR", "RM"), ("CAD", "$"), ("AUD", "$"), ("SEK", "kr"), ("NOK", "kr"),
        ("DKK", "kr"), ("CZK", "Kč"), ("HUF", "Ft"), ("AED", "د.إ"), ("KGS", "сом"), ("TJS", "SM"), ("MDL", "L"), ("SGD", "$"),
    }.Select((currency, index) => (currency.Item1, Value: (Id: index + 1, Unit: currency.Item2)))
        .ToDictionary(c => c.Item1, c => c.Value, StringComparer.Ordinal);

    /// <summary>Shown by GET even before any rate is set (at the default 1), like the documented example.</summary>
    private static readonly string[] DefaultListed = ["USD", "EUR", "BYN", "KZT", "UAH"];

    private readonly Lock _gate = new();
    private readonly List<RateRecord> _records = [];
    private readonly List<SandboxCurrencyRatePatch> _patches = [];
    private long _nextId = 600;
    private long _nextPatch;

    internal sealed record RateRecord(
        long Id, int ResellerId, string Base, string Foreign, int Quantity, decimal Rate, decimal Adjustment, bool ShowForClient,
        DateTimeOffset CreatedAt)
    {
        public bool Current { get; set; } = true;

        public DateTimeOffset UpdatedAt { get; set; } = CreatedAt;

        /// <summary>The PATCH response record (§3.2). Which side is <c>from_id</c> is not documented: the foreign currency (inferred).</summary>
        public JsonObject ToJson() => new()
        {
            ["id"] = Id.ToString(CultureInfo.InvariantCulture),
            ["type"] = "currency_rates",
            ["attributes"] = new JsonObject
            {
                ["created_at"] = ApiJson.MillisecondTimestamp(CreatedAt),
                ["updated_at"] = ApiJson.MillisecondTimestamp(UpdatedAt),
                ["from_id"] = Currencies[Foreign].Id,
                ["to_id"] = Currencies[Base].Id,
                ["rate"] = ApiJson.Money(Rate),
                ["quantity"] = Quantity,
                ["current"] = Current,
                ["reseller_id"] = ResellerId,
                ["show_for_client"] = ShowForClient,
                ["adjustment"] = ApiJson.Money(Adjustment),
            },
        };

        public SandboxCurrencyRate View() => new(
            Id.ToString(CultureInfo.InvariantCulture), ResellerId, Base, Foreign, Quantity, ApiJson.Money(Rate), ApiJson.Money(Adjustment),
            ShowForClient, Current, CreatedAt);
    }

    internal sealed record PairWrite(string Base, string Foreign, int Quantity, decimal Rate, decimal? Adjustment, bool? ShowForClient)
    {
        public SandboxCurrencyRatePatchPair View() => new(
            Base, Foreign, Quantity, ApiJson.Money(Rate), Adjustment is { } a ? ApiJson.Money(a) : null, ShowForClient);
    }

    /// <summary>Applies the pairs in order (a pair named twice ends at its last value) and logs the PATCH; returns the new records.</summary>
    public List<RateRecord> Apply(int resellerId, IReadOnlyList<PairWrite> pairs, DateTimeOffset now)
    {
        lock (_gate)
        {
            var created = new List<RateRecord>();
            foreach (var pair in pairs)
            {
                var previous = CurrentOwn(resellerId, pair.Base, pair.Foreign);
                if (previous is not null)
                {
                    previous.Current = false;
                    previous.UpdatedAt = now;
                }

                var record = new RateRecord(
                    ++_nextId, resellerId, pair.Base, pair.Foreign, pair.Quantity, pair.Rate,
                    pair.Adjustment ?? previous?.Adjustment ?? 1m, pair.ShowForClient ?? previous?.ShowForClient ?? false, now);
                _records.Add(record);
                created.Add(record);
                ledger.Record(resellerId, EffectKinds.CurrencyRateSet, $"{pair.Base}/{pair.Foreign}",
                    ("rate", ApiJson.Money(pair.Rate)), ("quantity", pair.Quantity.ToString(CultureInfo.InvariantCulture)),
                    ("patch", (_nextPatch + 1).ToString(CultureInfo.InvariantCulture)));
            }

            _patches.Add(new SandboxCurrencyRatePatch(++_nextPatch, now, resellerId, [.. pairs.Select(p => p.View())]));
            return created;
        }
    }

    /// <summary>The rate of a pair as a reseller sees it: its own, else its nearest ancestor's, else null (the default 1).</summary>
    public RateRecord? Effective(int resellerId, string baseCurrency, string foreign, ResellerDirectory directory)
    {
        lock (_gate)
        {
            var candidates = _records
                .Where(r => r.Current && r.Base == baseCurrency && r.Foreign == foreign && directory.IsWithin(r.ResellerId, resellerId))
                .ToList();

            // The nearest ancestor is the one every other candidate is an ancestor of.
            return candidates.FirstOrDefault(c => candidates.All(other => directory.IsWithin(other.ResellerId, c.ResellerId)));
        }
    }

    public IReadOnlyList<string> ForeignCurrenciesOf(string baseCurrency)
    {
        lock (_gate)
        {
            return [.. DefaultListed.Concat(_records.Where(r => r.Base == baseCurrency).Select(r => r.Foreign)).Distinct(StringComparer.Ordinal)];
        }
    }

    public IReadOnlyList<SandboxCurrencyRate> All(int? resellerId, bool currentOnly)
    {
        lock (_gate)
        {
            return [.. _records.Where(r => (resellerId is null || r.ResellerId == resellerId) && (!currentOnly || r.Current)).Select(r => r.View())];
        }
    }

    public IReadOnlyList<SandboxCurrencyRatePatch> Patches(int? resellerId)
    {
        lock (_gate)
        {
            return [.. _patches.Where(p => resellerId is null || p.ResellerId == resellerId)];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _records.Clear();
            _patches.Clear();
        }
    }

    private RateRecord? CurrentOwn(int resellerId, string baseCurrency, string foreign) =>
        _records.LastOrDefault(r => r.Current && r.ResellerId == resellerId && r.Base == baseCurrency && r.Foreign == foreign);
}

/// <summary>
/// <c>GET</c> and <c>PATCH /api/v3/resellers/{reseller_id}/currency_rates</c> (REFERENCE.md §3.1, §3.2), and the control
/// API's <c>GET /_sandbox/currency-rates?resellerId=&amp;all=</c> (current records; every record with <c>all=true</c>) and
/// <c>GET /_sandbox/currency-rate-patches?resellerId=</c> (every applied PATCH with its pairs as sent, in order).
/// </summary>
internal static class CurrencyRateEndpoints
{
    public const decimal MinAdjustment = 0.0001m;
    public const decimal MaxAdjustment = 1000m;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/currency_rates", Get);
        api.MapPatch("/currency_rates", Patch);
    }

    public static void MapControl(WebApplication app)
    {
        app.MapGet(ControlApi.Prefix + "/currency-rates", (int? resellerId, bool? all, CurrencyRateStore store) =>
            store.All(resellerId, currentOnly: all != true));
        app.MapGet(ControlApi.Prefix + "/currency-rate-patches", (int? resellerId, CurrencyRateStore store) => store.Patches(resellerId));

        // POST /_sandbox/reset clears the rates too; hooked here so the shared reset endpoint needs no change.
        app.Use(async (context, next) =>
        {
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(ControlApi.Prefix + "/reset", StringComparison.OrdinalIgnoreCase))
            {
                context.RequestServices.GetRequiredService<CurrencyRateStore>().Clear();
            }

            await next(context);
        });
    }

    /// <summary>A single object, not a list: the reseller currency with the rate of every listed foreign currency in it.</summary>
    private static IResult Get([FromRoute(Name = "reseller_id")] int resellerId, CurrencyRateStore store, ResellerDirectory directory, SandboxClock clock)
    {
        var baseCurrency = CurrencyRateStore.ResellerCurrency;
        var rates = new JsonArray();
        var updated = DateTimeOffset.MinValue;
        foreach (var foreign in store.ForeignCurrenciesOf(baseCurrency))
        {
            var effective = store.Effective(resellerId, baseCurrency, foreign, directory);
            if (effective is not null && effective.UpdatedAt > updated)
            {
                updated = effective.UpdatedAt;
            }

            rates.Add(new JsonObject
            {
                ["iso_code"] = foreign,
                ["unit"] = CurrencyRateStore.Currencies[foreign].Unit,
                ["quantity"] = effective?.Quantity ?? 1,
                ["rate"] = ApiJson.Money(effective?.Rate ?? 1m),
                ["show_for_client"] = effective?.ShowForClient ?? false,
            });
        }

        var now = clock.Now;
        var stamp = updated == DateTimeOffset.MinValue ? now : updated.ToOffset(now.Offset);
        return ApiJson.Document(new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["id"] = resellerId.ToString(CultureInfo.InvariantCulture),
                ["type"] = "currency_rates",
                ["attributes"] = new JsonObject
                {
                    ["created_at"] = ApiJson.MillisecondTimestamp(stamp),
                    ["updated_at"] = ApiJson.MillisecondTimestamp(stamp),
                    ["reseller_currency_iso_code"] = baseCurrency,
                    ["reseller_currency_unit"] = CurrencyRateStore.Currencies[baseCurrency].Unit,
                    ["rates"] = rates,
                },
            },
        });
    }

    /// <summary>
    /// <c>data.attributes</c> is an array of pairs. The whole batch is validated first (an unknown ISO code or an
    /// out-of-range adjustment is a 422 — inferred, the error section was not retrieved) and then applied pair by pair, so a
    /// pair named twice ends at its last value, as documented.
    /// </summary>
    private static async Task<IResult> Patch(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, CurrencyRateStore store, SandboxClock clock)
    {
        var (ok, body) = await ApiJson.ReadBodyAsync(context);
        if (!ok)
        {
            return ApiJson.Error(StatusCodes.Status400BadRequest, "The request body is not valid JSON");
        }

        var attributes = (body as JsonObject)?["data"]?["attributes"] switch
        {
            JsonArray array => array,
            JsonObject single => new JsonArray(single.DeepClone()),
            _ => null,
        };
        if (attributes is null || attributes.Count == 0)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "param is missing or the value is empty: data");
        }

        var pairs = new List<CurrencyRateStore.PairWrite>();
        var errors = new List<string>();
        foreach (var item in attributes)
        {
            if (Parse(item as JsonObject, errors) is { } pair)
            {
                pairs.Add(pair);
            }
        }

        if (errors.Count > 0)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, string.Join(", ", errors.Distinct(StringComparer.Ordinal)));
        }

        var created = store.Apply(resellerId, pairs, clock.Now);
        return ApiJson.Document(new JsonObject { ["data"] = new JsonArray([.. created.Select(r => (JsonNode)r.ToJson())]) });
    }

    private static CurrencyRateStore.PairWrite? Parse(JsonObject? item, List<string> errors)
    {
        if (item is null)
        {
            errors.Add("Currency rate must be an object");
            return null;
        }

        var before = errors.Count;
        var baseCurrency = Currency(item, "base_currency", "Base currency", errors);
        var foreign = Currency(item, "foreign_currency", "Foreign currency", errors);
        if (baseCurrency is not null && baseCurrency == foreign)
        {
            errors.Add("Foreign currency must be different from base currency");
        }

        var quantity = 0;
        var quantityText = ApiJson.Text(item["quantity"]);
        if (string.IsNullOrEmpty(quantityText))
        {
            errors.Add("Quantity can't be blank");
        }
        else if (!int.TryParse(quantityText, NumberStyles.None, CultureInfo.InvariantCulture, out quantity) || quantity < 1)
        {
            errors.Add("Quantity must be an integer greater than 0");
        }

        var rate = Number(item, "rate");
        if (rate is null)
        {
            errors.Add(item["rate"] is null ? "Rate can't be blank" : "Rate is not a number");
        }
        else if (rate <= 0)
        {
            errors.Add("Rate must be greater than 0");
        }

        decimal? adjustment = null;
        if (item["adjustment"] is not null)
        {
            adjustment = Number(item, "adjustment");
            if (adjustment is null)
            {
                errors.Add("Adjustment is not a number");
            }
            else if (adjustment < CurrencyRateEndpoints.MinAdjustment || adjustment > CurrencyRateEndpoints.MaxAdjustment)
            {
                errors.Add("Adjustment must be in 0.0001..1000");
            }
        }

        bool? show = null;
        if (item["show_for_client"] is JsonValue showValue)
        {
            show = showValue.GetValueKind() switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => bool.TryParse(ApiJson.Text(showValue), out var parsed) ? parsed : null,
            };
            if (show is null)
            {
                errors.Add("Show for client is not a boolean");
            }
        }

        return errors.Count == before ? new CurrencyRateStore.PairWrite(baseCurrency!, foreign!, quantity, rate!.Value, adjustment, show) : null;
    }

    private static string? Currency(JsonObject item, string field, string label, List<string> errors)
    {
        var code = ApiJson.Text(item[field]);
        if (string.IsNullOrWhiteSpace(code))
        {
            errors.Add($"{label} can't be blank");
            return null;
        }

        if (!CurrencyRateStore.Currencies.ContainsKey(code))
        {
            errors.Add($"{label} {code} is not available");
            return null;
        }

        return code;
    }

    private static decimal? Number(JsonObject item, string field) =>
        ApiJson.Text(item[field]) is { } text
        && item[field] is JsonValue value && value.GetValueKind() is JsonValueKind.Number or JsonValueKind.String
        && decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number)
            ? number
            : null;
}
