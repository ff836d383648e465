using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.Chaos.Recording;

/// <summary>A dead letter as the admin API lists it (<c>GET /admin/dead-letters</c>).</summary>
public sealed record DeadLetterSummary(
    Guid Id,
    string SourceQueue,
    string MessageType,
    string? MessageId,
    string? ErpKey,
    string ExceptionType,
    string ExceptionMessage,
    int AttemptCount,
    int FailureCount,
    DateTimeOffset FirstFailedAt,
    DateTimeOffset LastFailedAt,
    string Status,
    string? StatusReason,
    int ReplayCount)
{
    public override string ToString() =>
        $"dead letter {Id} {Status} {MessageType} message={EventText.Visible(MessageId)} key={EventText.Visible(ErpKey)} failures={FailureCount} replays={ReplayCount}: {ExceptionType}: {(ExceptionMessage.Length > 300 ? ExceptionMessage[..300] + "…" : ExceptionMessage)}";
}

/// <summary>
/// The operator's side: Bridge's admin API with an operator token. Any running instance will do (they share the
/// database); <see cref="_baseAddresses"/> is asked for the live ones on every call.
/// </summary>
public sealed class AdminClient(Func<IReadOnlyList<Uri>> baseAddresses, string token) : IDisposable
{
    private const int PageSize = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly Func<IReadOnlyList<Uri>> _baseAddresses = baseAddresses;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Every dead letter, optionally of one status.</summary>
    public async Task<IReadOnlyList<DeadLetterSummary>> ListAsync(string? status, CancellationToken ct)
    {
        var all = new List<DeadLetterSummary>();
        for (var page = 1; ; page++)
        {
            var query = $"admin/dead-letters?page={page}&pageSize={PageSize}" + (status is null ? "" : "&status=" + status);
            var result = await SendAsync(base_ => new HttpRequestMessage(HttpMethod.Get, new Uri(base_, query)), ct);
            var body = await result.Content.ReadFromJsonAsync<Page>(Json, ct) ?? throw new InvalidOperationException("The admin API answered no page.");
            all.AddRange(body.Items);
            if (body.Items.Count < PageSize)
            {
                return all;
            }
        }
    }

    /// <summary>Replays one dead letter; false when it was not in a state to be replayed (409) or is gone (404).</summary>
    public async Task<bool> ReplayAsync(Guid id, CancellationToken ct)
    {
        using var response = await SendAsync(b => new HttpRequestMessage(HttpMethod.Post, new Uri(b, $"admin/dead-letters/{id:D}/replay")), ct, acceptRefusal: true);
        return response.IsSuccessStatusCode;
    }

    /// <summary>One replay through one instance, whatever becomes of it (the instance may be killed meanwhile).</summary>
    public async Task TryReplayThroughAsync(Uri address, Guid id, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(address, $"admin/dead-letters/{id:D}/replay"));
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await _http.SendAsync(message, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // Killed while answering: that is the point.
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Func<Uri, HttpRequestMessage> request, CancellationToken ct, bool acceptRefusal = false)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            foreach (var address in _baseAddresses())
            {
                using var message = request(address);
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                try
                {
                    var response = await _http.SendAsync(message, ct);
                    if (response.IsSuccessStatusCode || (acceptRefusal && (int)response.StatusCode is 404 or 409))
                    {
                        return response;
                    }

                    last = new HttpRequestException($"{message.Method} {message.RequestUri!.PathAndQuery} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                    response.Dispose();
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    // That instance is down or restarting (or its database is): try another, then again.
                    last = ex;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }

        throw new InvalidOperationException("No Bridge instance's admin API answered.", last);
    }

    public void Dispose() => _http.Dispose();

    private sealed record Page(IReadOnlyList<DeadLetterSummary> Items, long Total);
}
