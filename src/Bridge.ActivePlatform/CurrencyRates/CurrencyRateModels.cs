using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.CurrencyRates;

/// <summary>
/// One pair of PATCH <c>currency_rates</c> exactly as it goes on the wire (REFERENCE.md §3.2): ISO codes, an integer
/// quantity and the rate and adjustment as JSON numbers, as in the documented example. Absent optional values are left out,
/// so ActivePlatform keeps its current ones.
/// </summary>
public sealed record CurrencyRateWrite
{
    public required string BaseCurrency { get; init; }

    public required string ForeignCurrency { get; init; }

    public required int Quantity { get; init; }

    public required decimal Rate { get; init; }

    /// <summary>Customer coefficient, 0.0001..1000.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public decimal? Adjustment { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? ShowForClient { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{BaseCurrency}/{ForeignCurrency} {Quantity} = {Rate}");
}

/// <summary>
/// GET <c>currency_rates</c> answers a single object (§3.1): the reseller currency with the rate of each foreign currency.
/// Its <c>id</c> is the id of the reseller currency.
/// </summary>
public sealed record ResellerCurrencyRates : JsonApiResource
{
    public ResellerCurrencyRatesAttributes Attributes { get; set; } = new();
}

public sealed record ResellerCurrencyRatesAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }

    public ApiTimestamp? UpdatedAt { get; set; }

    public string? ResellerCurrencyIsoCode { get; set; }

    public string? ResellerCurrencyUnit { get; set; }

    public IReadOnlyList<ResellerCurrencyRate>? Rates { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>One foreign currency's rate in the reseller currency; <c>rate</c> arrives as a string (<c>"67.0"</c>).</summary>
public sealed record ResellerCurrencyRate
{
    public string? IsoCode { get; set; }

    public string? Unit { get; set; }

    public int? Quantity { get; set; }

    public ApiDecimal? Rate { get; set; }

    public bool? ShowForClient { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A rate record as PATCH <c>currency_rates</c> answers with it (§3.2): a different shape from GET, with internal currency ids.</summary>
public sealed record CurrencyRateRecord : JsonApiResource
{
    public CurrencyRateRecordAttributes Attributes { get; set; } = new();
}

public sealed record CurrencyRateRecordAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }

    public ApiTimestamp? UpdatedAt { get; set; }

    /// <summary>Internal currency id (not an ISO code).</summary>
    public long? FromId { get; set; }

    /// <summary>Internal currency id (not an ISO code).</summary>
    public long? ToId { get; set; }

    public ApiDecimal? Rate { get; set; }

    public int? Quantity { get; set; }

    public bool? Current { get; set; }

    public long? ResellerId { get; set; }

    public bool? ShowForClient { get; set; }

    public ApiDecimal? Adjustment { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
