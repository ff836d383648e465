using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Sandbox;

/// <summary>The wire conventions of ActivePlatform v3 (REFERENCE.md §0), in one place.</summary>
internal static class ApiJson
{
    public const string MediaType = "application/vnd.api+json";

    private const string BodyItem = "sandbox.body";

    // Rails writes UTF-8 as is; escaping Cyrillic would make the sandbox look unlike the real API.
    private static readonly JsonSerializerOptions WriteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IResult Document(JsonNode? body, int status = StatusCodes.Status200OK) =>
        new ApiResult(status, body is null ? "null" : body.ToJsonString(WriteOptions));

    /// <summary>The documented error shape: <c>errors</c> is one object and <c>status</c> a string.</summary>
    public static IResult Error(int status, string title) => Document(ErrorBody(status, title), status);

    public static JsonObject ErrorBody(int status, string title) => new()
    {
        ["errors"] = new JsonObject { ["title"] = title, ["status"] = status.ToString(CultureInfo.InvariantCulture) },
    };

    /// <summary>Microseconds and an offset without a colon: <c>2019-11-01T06:37:31.737051+0300</c>.</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture)
        + value.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal);

    /// <summary>Milliseconds and an offset with a colon, as the accounts and subscriptions examples show.</summary>
    public static string MillisecondTimestamp(DateTimeOffset value) =>
        value.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    public static string Date(DateOnly value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Money the way Ruby's BigDecimal prints it: "123.45", "100.0", "-5.0".</summary>
    public static string Money(decimal value) => value.ToString("0.0###########################", CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads the request body once as JSON; the call log and the endpoint share the parse.
    /// Returns false when the body is not JSON. An empty body reads as null.
    /// </summary>
    public static async Task<(bool Ok, JsonNode? Body)> ReadBodyAsync(HttpContext context)
    {
        if (context.Items.TryGetValue(BodyItem, out var cached))
        {
            return ((bool, JsonNode?))cached!;
        }

        (bool, JsonNode?) result;
        context.Request.EnableBuffering();
        context.Request.Body.Position = 0;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true))
        {
            var text = await reader.ReadToEndAsync(context.RequestAborted);
            try
            {
                result = string.IsNullOrWhiteSpace(text) ? (true, null) : (true, JsonNode.Parse(text));
            }
            catch (JsonException)
            {
                result = (false, null);
            }
        }

        context.Request.Body.Position = 0;
        context.Items[BodyItem] = result;
        return result;
    }

    /// <summary>
    /// The documented envelope of payments, corrections and currency rates (REFERENCE.md "style A"):
    /// <c>{"data":{"attributes":{…}}}</c>, with or without <c>data.type</c>. A flat body has no attributes here.
    /// </summary>
    public static JsonObject? DataAttributes(JsonNode? body) => (body as JsonObject)?["data"]?["attributes"] as JsonObject;

    /// <summary>
    /// The documented flat body of notifications and complete_invoices (REFERENCE.md "style B"; approve and revoke inferred
    /// alike). A body wrapped in <c>data</c> has no fields here.
    /// </summary>
    public static JsonObject? Flat(JsonNode? body) => body is JsonObject root && !root.ContainsKey("data") ? root : null;

    /// <summary>
    /// The attributes of a closing-document write, whose envelope the docs do not show (REFERENCE.md §1): either
    /// <c>{"data":{"attributes":{…}}}</c> (with or without data.type) or flat.
    /// </summary>
    public static JsonObject? Attributes(JsonNode? body)
    {
        if (body is not JsonObject root)
        {
            return null;
        }

        if (root["data"] is JsonObject data)
        {
            return data["attributes"] as JsonObject ?? data;
        }

        return root;
    }

    /// <summary>A scalar as text: strings as they are, numbers and booleans as written; objects and arrays are not text.</summary>
    public static string? Text(JsonNode? node) => node switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonValue value when value.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
        _ => null,
    };

    private sealed class ApiResult(int status, string json) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = MediaType;
            await httpContext.Response.WriteAsync(json, Encoding.UTF8, httpContext.RequestAborted);
        }
    }
}
