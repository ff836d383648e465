using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Json;

/// <summary>
/// Source-generated metadata for every model, with the tolerant converters applied globally: strings read from
/// any scalar, numbers (money) from strings, booleans from strings, both timestamp styles.
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
[JsonSerializable(typeof(JsonApiDocument<ExternalInvoice>))]
[JsonSerializable(typeof(JsonApiDocument<AsyncTask>))]
[JsonSerializable(typeof(JsonApiDocument<Account>))]
[JsonSerializable(typeof(JsonApiDocument<Subscription>))]
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
[JsonSerializable(typeof(UnknownResource))]
[JsonSerializable(typeof(DataAttributesEnvelope<ExternalInvoiceWriteAttributes>))]
[JsonSerializable(typeof(ExternalInvoiceWriteAttributes))]
[JsonSerializable(typeof(ClosingDocumentNotification))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(JsonApiDocument<Bridge.ActivePlatform.Corrections.Correction>))]
[JsonSerializable(typeof(DataAttributesEnvelope<Bridge.ActivePlatform.Corrections.CorrectionWriteAttributes>))]
[JsonSerializable(typeof(DataAttributesEnvelope<Bridge.ActivePlatform.Corrections.CorrectionStatusAttributes>))]
[JsonSerializable(typeof(JsonApiDocument<Bridge.ActivePlatform.Invoices.Invoice>))]
[JsonSerializable(typeof(Bridge.ActivePlatform.Invoices.InvoiceActionBody))]
public sealed partial class ActivePlatformJsonContext : JsonSerializerContext;
