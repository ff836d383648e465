using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Ingress;
using Bridge.Sandbox;
using Bridge.Tests.DeadLetters;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Ingress;

/// <summary>What the door's tests send and read, as an ERP does over HTTP.</summary>
internal static class DoorRequests
{
    public static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    // Seven digits from a random start, as the dead-letter tests' accounts, so that faults set for one touch no other.
    private static int _nextAccount = Random.Shared.Next(2_000_000, 9_000_000);

    public static long NewAccount() => Interlocked.Increment(ref _nextAccount);

    public static string NewKey() => "1c:" + NewId.NextGuid().ToString("N");

    public static Uri StatusUri(string key) => new($"api/messages/{Uri.EscapeDataString(key)}", UriKind.Relative);

    public static Task<HttpResponseMessage> PostAsync(HttpClient door, string messageType, string? key, object body) =>
        door.PostAsync(new Uri($"api/messages/{messageType}", UriKind.Relative), JsonBody(JsonSerializer.Serialize(body, WebJson), key));

    public static StringContent JsonBody(string json, string? idempotencyKey)
    {
        var content = new StringContent(json, Encoding.UTF8, "application/json");
        if (idempotencyKey is not null)
        {
            content.Headers.Add(IngressApi.IdempotencyKeyHeader, idempotencyKey);
        }

        return content;
    }

    public static HttpRequestMessage WithBearer(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    public static async Task<IngressMessageStatus> StatusAsync(HttpClient door, string key)
    {
        using var answer = await door.GetAsync(StatusUri(key));
        Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
        return (await answer.Content.ReadFromJsonAsync<IngressMessageStatus>(WebJson))!;
    }

    public static Task<IngressMessageStatus> StatusUntilAsync(HttpClient door, string key, Func<IngressMessageStatus, bool> done) =>
        EventuallyAsync(() => StatusAsync(door, key), done);

    /// <summary>The closing documents the sandbox holds under the ERP's key.</summary>
    public static async Task<List<SandboxExternalInvoice>> DocumentsAsync(this DeadLetterFixture fixture, string key) =>
        (await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None)).Where(d => d.Key == key).ToList();

    /// <summary>What the door leaves when its instance dies after recording a submission and before the broker confirmed it.</summary>
    public static async Task RecordUnsentAsync(this DeadLetterFixture fixture, string key, Dictionary<string, object?> body)
    {
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(body, WebJson));
        var typed = document.RootElement.Deserialize<SendClosingDocument>(MassTransit.Serialization.SystemTextJsonMessageSerializer.Options);
        await fixture.Get<IngressStore>().RecordAsync(key, nameof(SendClosingDocument), PayloadFingerprint.Of(typed), DeadLetterFixture.ErpClientName, CancellationToken.None);
    }
}
