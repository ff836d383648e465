using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Json;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.CurrencyRates;

/// <summary>
/// Source-generated metadata of the currency-rate models, with the same naming and tolerant converters as
/// <see cref="ActivePlatformJsonContext"/> (its own context keeps this flow out of the shared one).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    Converters =
    [
        typeof(LenientStringConverter),
        typeof(LenientBooleanConverter),
        typeof(TimestampConverter),
        typeof(DateOnlyConverter),
        typeof(JsonApiResourceConverter),
    ])]
[JsonSerializable(typeof(JsonApiDocument<ResellerCurrencyRates>))]
[JsonSerializable(typeof(JsonApiDocument<CurrencyRateRecord>))]
[JsonSerializable(typeof(DataAttributesEnvelope<IReadOnlyList<CurrencyRateWrite>>))]
[JsonSerializable(typeof(UnknownResource))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class CurrencyRatesJsonContext : JsonSerializerContext;
