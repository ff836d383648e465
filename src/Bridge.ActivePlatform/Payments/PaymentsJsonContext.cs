using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Json;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Payments;

/// <summary>
/// The payments models with the same tolerant options as <see cref="ActivePlatformJsonContext"/>. Included resources are
/// read by <see cref="JsonApiResourceConverter"/>, which may ask for any modelled type, so those are listed too.
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
[JsonSerializable(typeof(JsonApiDocument<Payment>))]
[JsonSerializable(typeof(Payment))]
[JsonSerializable(typeof(PaymentCorrectionAttributes))]
[JsonSerializable(typeof(DataAttributesEnvelope<TopUpPaymentWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<PaymentMethodWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<PaymentStatusWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<PaymentCompletionByNumberWrite>))]
[JsonSerializable(typeof(UnknownResource))]
[JsonSerializable(typeof(ExternalInvoice))]
[JsonSerializable(typeof(AsyncTask))]
[JsonSerializable(typeof(Account))]
[JsonSerializable(typeof(Subscription))]
[JsonSerializable(typeof(SubscriptionResource))]
[JsonSerializable(typeof(SubscriptionPeriod))]
[JsonSerializable(typeof(Plan))]
[JsonSerializable(typeof(PlanResource))]
[JsonSerializable(typeof(PlanPeriod))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class PaymentsJsonContext : JsonSerializerContext;
