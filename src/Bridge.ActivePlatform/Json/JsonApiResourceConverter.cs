using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Json;

/// <summary>
/// Reads a <see cref="JsonApiResource"/> into the subclass its <c>type</c> names. JSON:API puts <c>type</c> after
/// <c>id</c>, so the object is buffered rather than relying on a leading type discriminator.
/// </summary>
public sealed class JsonApiResourceConverter : JsonConverter<JsonApiResource>
{
    private static readonly Dictionary<string, Type> TypesByName = new(StringComparer.Ordinal)
    {
        ["external_invoices"] = typeof(ExternalInvoice),
        ["async_tasks"] = typeof(AsyncTask),
        ["accounts"] = typeof(Account),
        ["subscriptions"] = typeof(Subscription),
        ["subscription_resources"] = typeof(SubscriptionResource),
        ["subscription_periods"] = typeof(SubscriptionPeriod),
        ["plans"] = typeof(Plan),
        ["plan_resources"] = typeof(PlanResource),
        ["plan_periods"] = typeof(PlanPeriod),
        ["charges"] = typeof(Queries.Charge),
        ["orders"] = typeof(Queries.Order),
    };

    public static Type ModelFor(string? type) =>
        type is not null && TypesByName.TryGetValue(type, out var model) ? model : typeof(UnknownResource);

    public override JsonApiResource? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"A JSON:API resource must be an object, not {reader.TokenType}.");
        }

        var element = JsonElement.ParseValue(ref reader);
        var type = element.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String
            ? typeElement.GetString()
            : null;
        // A context that does not know the model (each API family has its own) reads the resource as unknown, raw.
        return (JsonApiResource?)element.Deserialize(
            options.TryGetTypeInfo(ModelFor(type), out var model) ? model : options.GetTypeInfo(typeof(UnknownResource)));
    }

    public override void Write(Utf8JsonWriter writer, JsonApiResource value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, options.GetTypeInfo(value.GetType()));
}
