using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Sandbox;

/// <summary>The kinds of effects the operations of the rest of the v3 table record (see <c>Operations/</c>).</summary>
public static partial class EffectKinds
{
    public const string AccountCreated = "account.created";
    public const string AccountUpdated = "account.updated";
    public const string SubscriptionStopped = "subscription.stopped";
    public const string SubscriptionActivated = "subscription.activated";
    public const string SubscriptionDeleted = "subscription.deleted";
    public const string SubscriptionUpdated = "subscription.updated";
    public const string OrderCreated = "order.created";
    public const string OrderCancelled = "order.cancelled";
    public const string ManagerCreated = "manager.created";
    public const string ManagerUpdated = "manager.updated";
    public const string FreeAccessDocumentCreated = "free_access_document.created";
    public const string FreeAccessDocumentUpdated = "free_access_document.updated";
    public const string FreeAccessDocumentDeleted = "free_access_document.deleted";
    public const string NoteCreated = "note.created";
    public const string NoteDeleted = "note.deleted";
    public const string ChargesClosed = "charges.closed";
}

/// <summary>
/// What the writes of <c>Operations/</c> share: the body read strictly in envelope style A (REFERENCE.md §0, the envelope of
/// every documented write with a JSON:API resource: payments, corrections, currency rates) — inferred for these endpoints,
/// whose request examples are not in the documents read here — and the Rails-style errors of the documented ones.
/// </summary>
internal static class Writes
{
    public const string NotFound = "Record not found";

    /// <summary>
    /// The attributes of <c>{"data":{"type":…,"attributes":{…}}}</c>; <c>data.type</c> is optional (no documented example has
    /// one) but, when sent, must name <paramref name="type"/>. A flat body, an array or a body that is not JSON is refused.
    /// </summary>
    public static async Task<(JsonObject? Attributes, IResult? Error)> AttributesAsync(HttpContext context, string type)
    {
        var (ok, body) = await ApiJson.ReadBodyAsync(context);
        if (!ok)
        {
            return (null, ApiJson.Error(StatusCodes.Status400BadRequest, "The request body is not valid JSON"));
        }

        if (ApiJson.DataAttributes(body) is not { } attributes)
        {
            return (null, ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "param is missing or the value is empty: data"));
        }

        // Inferred: JSON:API answers 409 to a mismatched type; Rails apps built on it commonly do. 422 keeps to the one
        // documented refusal status of writes.
        if (body!["data"]!["type"] is { } sent && ApiJson.Text(sent) != type)
        {
            return (null, ApiJson.Error(StatusCodes.Status422UnprocessableEntity, $"data.type must be {type}"));
        }

        return (attributes, null);
    }

    public static IResult Invalid(string title) => ApiJson.Error(StatusCodes.Status422UnprocessableEntity, title);

    public static IResult Missing(string field) => Invalid($"param is missing or the value is empty: {field}");

    public static IResult Absent() => ApiJson.Error(StatusCodes.Status404NotFound, NotFound);

    public static IResult Created(JsonObject resource) => ApiJson.Document(new JsonObject { ["data"] = resource }, StatusCodes.Status201Created);

    public static IResult Ok(JsonObject resource) => ApiJson.Document(new JsonObject { ["data"] = resource });

    /// <summary>The first attribute outside <paramref name="allowed"/>, for a write that must not change what it does not name.</summary>
    public static string? Unpermitted(JsonObject attributes, IReadOnlyCollection<string> allowed) =>
        attributes.Select(a => a.Key).FirstOrDefault(k => !allowed.Contains(k));

    public static string? Text(JsonObject attributes, string field) => ApiJson.Text(attributes[field]) is { } text && !string.IsNullOrWhiteSpace(text) ? text : null;

    public static long? PositiveId(JsonNode? node) =>
        long.TryParse(ApiJson.Text(node), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    public static long? PositiveId(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    public static DateOnly? Date(JsonNode? node) =>
        DateOnly.TryParseExact(ApiJson.Text(node), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    public static bool IsBoolean(JsonNode? node) => node?.GetValueKind() is JsonValueKind.True or JsonValueKind.False;

    public static bool IsInteger(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    public static JsonObject Ref(string id, string type) => new() { ["id"] = id, ["type"] = type };

    public static JsonObject Link(string id, string type) => new() { ["data"] = Ref(id, type) };

    /// <summary>Builds every child node now, so that concurrent readers of a published node only ever read.</summary>
    public static T Materialized<T>(T node)
        where T : JsonNode
    {
        static void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, child) in o)
                    {
                        Walk(child);
                    }

                    break;
                case JsonArray a:
                    foreach (var child in a)
                    {
                        Walk(child);
                    }

                    break;
            }
        }

        Walk(node);
        return node;
    }

    /// <summary>
    /// Runs <paramref name="reset"/> on <c>POST /_sandbox/reset</c> (hooked beside the shared reset endpoint, as the reads'
    /// paging is, so that endpoint needs no change).
    /// </summary>
    public static void OnReset(WebApplication app, Action<IServiceProvider> reset) =>
        app.Use(async (context, next) =>
        {
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(ControlApi.Prefix + "/reset", StringComparison.OrdinalIgnoreCase))
            {
                reset(context.RequestServices);
            }

            await next(context);
        });
}
