using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Json;
using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Queries;

namespace Bridge.ActivePlatform.Operations;

/// <summary>The write bodies and answers of <see cref="IOperationsApi"/>, with the tolerant options of the read models.</summary>
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
[JsonSerializable(typeof(DataAttributesEnvelope<AccountWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<SubscriptionWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<SalesOrderWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<SwitchOrderWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<ChangeOrderWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<RenewalOrderWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<ProlongOrderWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<ManagerWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<NoteWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<FreeAccessDocumentWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<OrderAttributesValidationWrite>))]
[JsonSerializable(typeof(DataAttributesEnvelope<CloseChargesWrite>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Account>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Order>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Subscription>))]
[JsonSerializable(typeof(JsonApiResourceDocument<Manager>))]
[JsonSerializable(typeof(JsonApiResourceDocument<UnknownResource>))]
[JsonSerializable(typeof(JsonApiResourceDocument<AsyncTask>))]
[JsonSerializable(typeof(JsonApiDocument<Charge>))]
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
[JsonSerializable(typeof(JsonElement))]
public sealed partial class OperationsJsonContext : JsonSerializerContext;
