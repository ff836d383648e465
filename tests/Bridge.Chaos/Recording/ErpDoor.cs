using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Bridge.Chaos.Model;

namespace Bridge.Chaos.Recording;

/// <summary>A live Bridge instance the door can be reached at.</summary>
public sealed record DoorInstance(string Name, Uri BaseAddress);

/// <summary>What became of a publication sent through the door: accepted (202), or refused for good with a 4xx status.</summary>
public sealed record DoorVerdict(bool Accepted, int Status);

/// <summary>
/// What <c>GET /api/messages/{key}</c> answered once the run was quiet: its HTTP status and, for a 200, the message's status,
/// the result event shown (its type, message id and time, and the body) and the dead letter shown.
/// </summary>
public sealed record DoorStatusReading(
    string Key,
    int HttpStatus,
    string? Status,
    string? MessageType,
    string? ResultType,
    string? ResultMessageId,
    DateTimeOffset? ResultOccurredAt,
    string? ResultEvent,
    Guid? DeadLetterId,
    string? DeadLetterStatus)
{
    public override string ToString()
    {
        if (HttpStatus != 200)
        {
            return $"GET /api/messages/{EventText.Visible(Key)} → {HttpStatus}";
        }

        var result = ResultType is null ? "no result" : $"result {ResultType} message={EventText.Visible(ResultMessageId)} occurredAt={ResultOccurredAt:O}";
        var letter = DeadLetterId is null ? "" : $", dead letter {DeadLetterId} {DeadLetterStatus}";
        return $"door status {Status} ({MessageType}), {result}{letter}";
    }
}

/// <summary>
/// Sends ERP messages through Bridge's HTTP door as an ERP without AMQP would: <c>POST /api/messages/{type}</c> with its ERP
/// key and the message's key as <c>Idempotency-Key</c>, to a randomly chosen live instance. A request that fails on the way
/// (the instance was SIGKILLed), a 5xx, or a 503 (the broker did not confirm) is sent again — the same request, under the
/// same key, to whichever instance is up — until a definitive answer: a 202 (queued, or sent before) or a 4xx refusal.
/// Every attempt is recorded in the history, since one that got no answer may still have queued the message.
/// </summary>
public sealed class ErpDoor : IDisposable
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(3);

    /// <summary>Longer than the door's own 30 s wait for the broker's confirm, so its 503 arrives rather than a timeout.</summary>
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(45);

    private static readonly TimeSpan LongestRetryAfter = TimeSpan.FromSeconds(2);

    private readonly Func<IReadOnlyList<DoorInstance>> _instances;
    private readonly string _erpKey;
    private readonly History _history;
    private readonly Random _pick;
    private readonly Lock _pickGate = new();
    private readonly HttpClient _http;

    public ErpDoor(Func<IReadOnlyList<DoorInstance>> instances, string erpKey, History history, int seed)
    {
        _instances = instances;
        _erpKey = erpKey;
        _history = history;
        _pick = new Random(seed);

        // Keys are UTF-8 (Cyrillic, emoji): sent as UTF-8 header values, which Kestrel reads as UTF-8.
        _http = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { Timeout = AttemptTimeout };
    }

    /// <summary>The HTTP header the door reads the key from.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public async Task<DoorVerdict> SendAsync(Publication publication, CancellationToken ct)
    {
        var message = publication.Message;
        var giveUp = DateTimeOffset.UtcNow + GiveUpAfter;
        while (true)
        {
            if (DateTimeOffset.UtcNow > giveUp)
            {
                throw new InvalidOperationException($"The door gave no definitive answer for {message} within {GiveUpAfter.TotalMinutes:0} minutes.");
            }

            var instance = Pick();
            if (instance is null)
            {
                // Both are down (killed, restarting): an ERP's outbound queue waits.
                await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
                continue;
            }

            var sentAt = DateTimeOffset.UtcNow;
            var retryAfter = TimeSpan.FromMilliseconds(200);
            try
            {
                using var request = Request(HttpMethod.Post, instance, "api/messages/" + message.MessageType);
                request.Content = new ByteArrayContent(message.Body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                if (message.AmqpMessageId is { } key)
                {
                    // Without one, the door reads the body's idempotencyKey, as the consumer does.
                    request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, key);
                }

                using var response = await _http.SendAsync(request, ct);
                var status = (int)response.StatusCode;
                var answer = await AnswerAsync(response, ct);
                var accepted = response.StatusCode == HttpStatusCode.Accepted;
                _history.Published(new PublicationRecord(message, publication.Copy, DateTimeOffset.UtcNow, accepted, accepted ? null : answer,
                    new DoorAttempt(instance.Name, sentAt, DateTimeOffset.UtcNow, status, answer)));
                if (accepted || status is >= 400 and < 500)
                {
                    return new DoorVerdict(accepted, status);
                }

                if (response.Headers.RetryAfter?.Delta is { } delta)
                {
                    retryAfter = delta < LongestRetryAfter ? delta : LongestRetryAfter;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                _history.Published(new PublicationRecord(message, publication.Copy, DateTimeOffset.UtcNow, Confirmed: false, ex.GetType().Name + ": " + ex.Message,
                    new DoorAttempt(instance.Name, sentAt, DateTimeOffset.UtcNow, null, ex.GetType().Name)));
            }

            await Task.Delay(retryAfter, ct);
        }
    }

    /// <summary>The message's status as the door tells it (any live instance: they share the database).</summary>
    public async Task<DoorStatusReading> ReadStatusAsync(string key, CancellationToken ct)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            foreach (var instance in _instances())
            {
                try
                {
                    using var request = Request(HttpMethod.Get, instance, "api/messages/" + Uri.EscapeDataString(key));
                    using var response = await _http.SendAsync(request, ct);
                    if ((int)response.StatusCode >= 500)
                    {
                        last = new HttpRequestException($"{instance.Name} answered {(int)response.StatusCode}");
                        continue;
                    }

                    return response.StatusCode == HttpStatusCode.OK
                        ? Read(key, await response.Content.ReadAsStringAsync(ct))
                        : new DoorStatusReading(key, (int)response.StatusCode, null, null, null, null, null, null, null, null);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    last = ex;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }

        throw new InvalidOperationException("No Bridge instance's door answered a status request.", last);
    }

    /// <summary>Reads the door's <c>IngressMessageStatus</c> (web JSON, camelCase) and the result event inside it.</summary>
    public static DoorStatusReading Read(string key, string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        string? resultType = null, resultMessageId = null, resultEvent = null;
        DateTimeOffset? occurredAt = null;
        if (Member(root, "result") is { ValueKind: JsonValueKind.Object } result)
        {
            resultType = Member(result, "type")?.GetString();
            if (Member(result, "event") is { ValueKind: JsonValueKind.Object } body)
            {
                resultEvent = body.GetRawText();
                resultMessageId = Member(body, "messageId")?.GetString();
                occurredAt = Member(body, "occurredAt") is { ValueKind: JsonValueKind.String } at
                    && DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
                    ? parsed
                    : null;
            }
        }

        Guid? letterId = null;
        string? letterStatus = null;
        if (Member(root, "deadLetter") is { ValueKind: JsonValueKind.Object } letter)
        {
            letterId = Member(letter, "id") is { ValueKind: JsonValueKind.String } id && id.TryGetGuid(out var guid) ? guid : null;
            letterStatus = Member(letter, "status")?.GetString();
        }

        return new DoorStatusReading(key, 200, Member(root, "status")?.GetString(), Member(root, "messageType")?.GetString(),
            resultType, resultMessageId, occurredAt, resultEvent, letterId, letterStatus);
    }

    private static JsonElement? Member(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value.ValueKind == JsonValueKind.Null ? null : property.Value;
            }
        }

        return null;
    }

    private DoorInstance? Pick()
    {
        var live = _instances();
        if (live.Count == 0)
        {
            return null;
        }

        lock (_pickGate)
        {
            return live[_pick.Next(live.Count)];
        }
    }

    private HttpRequestMessage Request(HttpMethod method, DoorInstance instance, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(instance.BaseAddress, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _erpKey);
        return request;
    }

    /// <summary>A 202's receipt status, or a problem's title and detail (shortened): what the history shows of an answer.</summary>
    private static async Task<string?> AnswerAsync(HttpResponseMessage response, CancellationToken ct)
    {
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(ct);
        }
        catch (HttpRequestException)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Shorten(text);
            }

            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return Member(root, "status")?.GetString() is { } status ? "status " + status : null;
            }

            var title = Member(root, "title")?.GetString();
            var detail = Member(root, "detail")?.GetString();
            var errors = Member(root, "errors") is { ValueKind: JsonValueKind.Array } list
                ? " errors: " + string.Join("; ", list.EnumerateArray().Select(e => e.GetRawText()))
                : "";
            return Shorten($"{title}: {detail}{errors}");
        }
        catch (JsonException)
        {
            return text.Length == 0 ? null : Shorten(text);
        }
    }

    private static string Shorten(string text) => text.Length > 400 ? text[..400] + "…" : text;

    public void Dispose() => _http.Dispose();
}
