using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Bridge.ActivePlatform.CurrencyRates;
using Bridge.ActivePlatform.Invoices;
using Bridge.ActivePlatform.Json;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Operations;
using Bridge.ActivePlatform.Payments;

namespace Bridge.ActivePlatform.Queries;

/// <summary>
/// The read models, with the tolerant options of <see cref="ActivePlatformJsonContext"/>. Included resources are read by
/// <see cref="JsonApiResourceConverter"/>, which may ask for any modelled type, so those are listed too.
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
[JsonSerializable(typeof(JsonApiResourceDocument<Account>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Subscription>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Invoice>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Charge>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Payment>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Order>))]
[JsonSerializable(typeof(JsonApiResourceDocument<ResellerCurrencyRates>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Reseller>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Plan>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Manager>))]
[JsonSerializable(typeof(JsonApiDocument<Reseller>))]
[JsonSerializable(typeof(JsonApiDocument<Plan>))]
[JsonSerializable(typeof(JsonApiDocument<Manager>))]
[JsonSerializable(typeof(JsonApiDocument<UnknownResource>))]
[JsonSerializable(typeof(JsonApiResourceDocument<UnknownResource>))]
[JsonSerializable(typeof(JsonApiDocument<Subscription>))]
[JsonSerializable(typeof(JsonApiDocument<Invoice>))]
[JsonSerializable(typeof(JsonApiDocument<Charge>))]
[JsonSerializable(typeof(JsonApiDocument<Payment>))]
[JsonSerializable(typeof(JsonApiDocument<Order>))]
[JsonSerializable(typeof(JsonApiDocument<Account>))]
[JsonSerializable(typeof(JsonApiDocument<JsonApiResource>))]
[JsonSerializable(typeof(ExternalInvoice))]
[JsonSerializable(typeof(AsyncTask))]
[JsonSerializable(typeof(Account))]
[JsonSerializable(typeof(Subscription))]
[JsonSerializable(typeof(SubscriptionResource))]
[JsonSerializable(typeof(SubscriptionPeriod))]
[JsonSerializable(typeof(Plan))]
[JsonSerializable(typeof(PlanResource))]
[JsonSerializable(typeof(PlanPeriod))]
[JsonSerializable(typeof(Charge))]
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(UnknownResource))]
[JsonSerializable(typeof(JsonApiDocument<CurrencyRateRecord>))]
[JsonSerializable(typeof(JsonApiDocument<Product>))]
[JsonSerializable(typeof(JsonApiDocument<ProductCategory>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Product>))]
[JsonSerializable(typeof(JsonApiResourceDocument<User>))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class QueriesJsonContext : JsonSerializerContext;

/// <summary>The options reads are (de)serialized with: <see cref="QueriesJsonContext"/> plus <see cref="MemberPresence"/>.</summary>
public static class QueryJson
{
    /// <summary>
    /// Reads what ActivePlatform sent and writes it back member for member: explicit nulls kept, absent members left out,
    /// money and timestamps as they came, non-ASCII text unescaped.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(QueriesJsonContext.Default.Options)
        {
            TypeInfoResolver = QueriesJsonContext.Default.WithAddedModifier(MemberPresence.Track),
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly();
        return options;
    }
}
