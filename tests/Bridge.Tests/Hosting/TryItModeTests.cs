using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bridge.Demo;
using Bridge.Host.Ingress;
using Bridge.Sandbox;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Hosting;

/// <summary>
/// The README's try-it mode (<c>dotnet run --project src/Bridge.Demo -- try</c>) as a newcomer uses it, over HTTP: a message in
/// through the door, its status, a fault that dead-letters the next one, its replay by an operator — on the in-memory
/// transport and SQLite, without RabbitMQ.
/// </summary>
public sealed class TryItModeTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_message_sent_through_the_door_is_applied_and_one_dead_lettered_by_a_fault_is_applied_after_its_replay()
    {
        await using var session = await TryItMode.StartAsync(port: 0, [], CancellationToken.None);
        using var door = Client(session, session.ErpKey);
        using var admin = Client(session, session.OperatorToken);

        Assert.Equal(HttpStatusCode.Accepted, (await SendTopUpAsync(door, "topup-1")).StatusCode);
        var first = await StatusUntilAsync(door, "topup-1", s => s.Status == IngressStatus.Applied);
        Assert.Equal("PaymentRegistered", first.Result!.Type);

        await session.Sandbox.Control.SetFaultAsync(
            new FaultRule { Method = "POST", PathContains = "/payments", FailNext = 100_000, ErrorStatus = 401 }, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Accepted, (await SendTopUpAsync(door, "topup-2")).StatusCode);
        var dead = await StatusUntilAsync(door, "topup-2", s => s.Status == IngressStatus.DeadLettered);
        Assert.Equal("Pending", dead.DeadLetter!.Status);
        await session.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);

        using (var replay = await admin.PostAsync(new Uri($"admin/dead-letters/{dead.DeadLetter.Id}/replay", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        }

        var applied = await StatusUntilAsync(door, "topup-2", s => s.Status == IngressStatus.Applied && s.Result?.Type == "PaymentRegistered");
        Assert.Equal("topup-2", applied.Result!.Event.GetProperty("key").GetString());
        var created = (await session.Sandbox.Control.GetCallsAsync("POST", "/payments", null, CancellationToken.None)).Count(call => call.Status == 201);
        Assert.Equal(2, created);
    }

    [Fact]
    public async Task The_instructions_name_the_addresses_the_key_and_the_token_of_this_run()
    {
        await using var session = await TryItMode.StartAsync(port: 0, [], CancellationToken.None);

        var text = TryItMode.Instructions(session);

        Assert.Contains(session.BridgeAddress.ToString().TrimEnd('/') + "/admin/", text, StringComparison.Ordinal);
        Assert.Contains(session.SandboxAddress.ToString().TrimEnd('/') + "/_sandbox/faults", text, StringComparison.Ordinal);
        Assert.Contains($"Authorization: Bearer {session.ErpKey}", text, StringComparison.Ordinal);
        Assert.Contains(session.OperatorToken, text, StringComparison.Ordinal);
        using var admin = Client(session, session.OperatorToken);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(new Uri("admin/me", UriKind.Relative))).StatusCode);
    }

    private static HttpClient Client(TryItSession session, string bearer)
    {
        var client = new HttpClient { BaseAddress = session.BridgeAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    private static Task<HttpResponseMessage> SendTopUpAsync(HttpClient door, string key)
    {
        var content = new StringContent(
            $$"""{"key":"{{key}}","accountId":523,"total":199.99,"comment":"top-up payment"}""", Encoding.UTF8, "application/json");
        content.Headers.Add(IngressApi.IdempotencyKeyHeader, key);
        return door.PostAsync(new Uri("api/messages/RegisterPayment", UriKind.Relative), content);
    }

    private static Task<IngressMessageStatus> StatusUntilAsync(HttpClient door, string key, Func<IngressMessageStatus, bool> done) =>
        EventuallyAsync(
            async () => (await door.GetFromJsonAsync<IngressMessageStatus>(new Uri($"api/messages/{key}", UriKind.Relative), Json))!,
            done);
}
