using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Bridge.ActivePlatform;

/// <summary>
/// Reads ActivePlatform's error bodies: the documented <c>{"errors":{"title","status":"422"}}</c> (an object),
/// a JSON:API <c>{"errors":[{…}]}</c>, a Rails-style <c>{"errors":{"field":["message"]}}</c> or <c>{"error":"…"}</c>.
/// Garbage or an empty body yields no errors rather than an exception: the status code still classifies the failure.
/// </summary>
public static class ActivePlatformErrorParser
{
    private const int MaxTextLength = 500;

    public static IReadOnlyList<ActivePlatformApiError> Parse(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return [];
            }

            if (root.TryGetProperty("errors", out var errors))
            {
                return errors.ValueKind switch
                {
                    JsonValueKind.Array => [.. errors.EnumerateArray().Select(FromElement).OfType<ActivePlatformApiError>()],
                    JsonValueKind.Object or JsonValueKind.String => FromElement(errors) is { } single ? [single] : [],
                    _ => [],
                };
            }

            if (root.TryGetProperty("error", out var error))
            {
                return FromElement(error) is { } single ? [single] : [];
            }

            return [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>The <c>Retry-After</c> delay, from seconds or an HTTP date (relative to <paramref name="now"/>); never negative.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>As <see cref="RetryAfter(RetryConditionHeaderValue?, DateTimeOffset)"/>, from the raw header text.</summary>
    public static TimeSpan? RetryAfter(string? header, DateTimeOffset now) =>
        RetryConditionHeaderValue.TryParse(header, out var parsed) ? RetryAfter(parsed, now) : null;

    private static ActivePlatformApiError? FromElement(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return new ActivePlatformApiError(Cap(element.GetString()), null, null);
            case JsonValueKind.Object:
                var title = Text(element, "title") ?? Text(element, "message");
                var status = Text(element, "status");
                var code = Text(element, "code");
                var detail = Text(element, "detail");
                if (title is null && status is null && code is null && detail is null)
                {
                    // Rails validation errors: {"name":["can't be blank"],"key":["has already been taken"]}.
                    var parts = element.EnumerateObject().Select(p => $"{p.Name}: {Flatten(p.Value)}").ToList();
                    return parts.Count == 0 ? null : new ActivePlatformApiError(Cap(string.Join("; ", parts)), null, null);
                }

                return new ActivePlatformApiError(title, status, code, detail);
            default:
                return null;
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => Cap(value.GetString()),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => Cap(Flatten(value)),
            }
            : null;

    private static string Flatten(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? string.Empty,
        JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(Flatten)),
        _ => value.GetRawText(),
    };

    private static string? Cap(string? text) =>
        text is { Length: > MaxTextLength } ? string.Concat(text.AsSpan(0, MaxTextLength), "…") : text;

    internal static int? StatusOf(ActivePlatformApiError error) =>
        int.TryParse(error.Status, NumberStyles.Integer, CultureInfo.InvariantCulture, out var status) ? status : null;
}
