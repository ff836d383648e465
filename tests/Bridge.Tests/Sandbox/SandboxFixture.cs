using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>One sandbox per test class, on a free port, reached over real sockets.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    /// <summary>A token scoped to reseller 2 (no children): it must not reach 1 or 3.</summary>
    public const string ChildToken = "reseller-2-token";

    public RunningSandbox Sandbox { get; private set; } = null!;

    public HttpClient Api { get; private set; } = null!;

    public SandboxControlClient Control => Sandbox.Control;

    public async Task InitializeAsync()
    {
        Sandbox = await SandboxServer.StartAsync(
            new SandboxSettings
            {
                Tokens =
                [
                    new() { Token = SandboxSettings.DefaultToken, ResellerId = 1 },
                    new() { Token = ChildToken, ResellerId = 2 },
                ],
            }.WithTestAccounts(),
            CancellationToken.None);
        Api = Sandbox.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Sandbox.DisposeAsync();
    }
}

/// <summary>Each test starts from a reset sandbox: no documents, faults, tasks or logged calls.</summary>
public abstract class SandboxTest(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    protected const string Documents = "api/v3/resellers/1/accounts/505/external_invoices";

    protected static readonly string Pdf = "data:application/pdf;base64," + Convert.ToBase64String("%PDF-1.4 closing document"u8.ToArray());

    protected SandboxFixture Fixture { get; } = fixture;

    protected HttpClient Api => Fixture.Api;

    protected SandboxControlClient Control => Fixture.Control;

    public Task InitializeAsync() => Control.ResetAsync(CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;

    protected static JsonObject ClosingDocument(string key, string name = "Act 1", string total = "123.45") => new()
    {
        ["key"] = key,
        ["type"] = "act",
        ["name"] = name,
        ["amount"] = new JsonObject { ["total"] = total, ["currency"] = "EUR" },
        ["start_date"] = "2019-11-01",
        ["end_date"] = "2019-11-30",
        ["file"] = Pdf,
    };

    protected static string NewKey() => Guid.NewGuid().ToString();

    protected Task<Response> SendAsync(HttpMethod method, string uri, JsonNode? body = null) => SendAsync(Api, method, uri, body);

    protected static async Task<Response> SendAsync(HttpClient client, HttpMethod method, string uri, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.Accept.ParseAdd("application/vnd.api+json");
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/vnd.api+json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Response(response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), text,
            response.Content.Headers.ContentType?.MediaType, response.Headers.RetryAfter?.Delta);
    }

    protected sealed record Response(HttpStatusCode Status, JsonNode? Body, string Text, string? MediaType, TimeSpan? RetryAfter)
    {
        public JsonNode Attributes => Body!["data"]!["attributes"]!;

        public string Id => (string)Body!["data"]!["id"]!;

        public string? ErrorTitle => (string?)Body?["errors"]?["title"];
    }
}
