using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bridge.Contracts;
using Bridge.Host.Cli;
using Bridge.Host.Features.Payments;
using MassTransit;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// <c>bridge dead-letters</c> against the running service: a mistyped option on a bulk replay is an error that sends nothing.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed class DeadLetterCliTests(DeadLetterFixture fixture)
{
    [Fact]
    public async Task A_mistyped_filter_on_replay_all_is_refused_naming_it_and_nothing_is_replayed()
    {
        // A CompletePayment dead letter that a replay of "everything" would take.
        var poisonId = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishRawAsync(fixture.Queue(CompletePaymentConsumer.Queue), Encoding.UTF8.GetBytes("{ not json"), poisonId);
        var announced = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == poisonId);
        using var calls = new RecordingHandler(new SocketsHttpHandler());

        var (exit, _, error) = await DeadLetterCliParsingTests.RunAsync(
            calls, "replay", "--all", "--tpye", "SendClosingDocument", "--wait", "--url", fixture.BaseAddress.ToString(), "--token", DeadLetterFixture.OperatorToken);

        Assert.Equal(2, exit);
        Assert.Contains("--tpye", error, StringComparison.Ordinal);
        Assert.Empty(calls.Requests);
        using var admin = fixture.Admin();
        var letter = (await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/{announced.DeadLetterId}", UriKind.Relative)))!;
        Assert.Equal(("Pending", 0), (letter["status"]!.GetValue<string>(), letter["replayCount"]!.GetValue<int>()));
        Assert.Equal(["Captured"], letter["audit"]!.AsArray().Select(entry => entry!["action"]!.GetValue<string>()));
    }
}

/// <summary>The CLI's command line alone: what it refuses before calling anything, its help, and what it sends.</summary>
public sealed class DeadLetterCliParsingTests
{
    private const string Url = "http://bridge.invalid/";

    public static readonly TheoryData<string[]> Commands = new()
    {
        Array.Empty<string>(),
        new[] { "list" },
        new[] { "groups" },
        new[] { "show" },
        new[] { "replay" },
        new[] { "edit" },
        new[] { "discard" },
        new[] { "restore" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_on_every_command_prints_its_usage_and_exits_0(string[] command)
    {
        using var calls = new RecordingHandler();

        var (exit, output, error) = await RunAsync(calls, [.. command, "--help"]);

        Assert.Equal(0, exit);
        Assert.Contains(string.Join(' ', ["bridge dead-letters", .. command]), output, StringComparison.Ordinal);
        Assert.Contains("--json", output, StringComparison.Ordinal);
        Assert.Equal("", error);
        Assert.Empty(calls.Requests);
    }

    [Theory]
    [InlineData("--tpye", "replay", "--all", "--tpye", "SendClosingDocument")]
    [InlineData("--tpye", "replay", "--all", "--tpye=SendClosingDocument")]
    [InlineData("--tpye", "replay", "--all", "--type", "CompletePayment", "--tpye", "SendClosingDocument")]
    [InlineData("--all", "replay", "3f1c2a8e-0000-4000-8000-000000000001", "--all", "--type", "SendClosingDocument")]
    [InlineData("--stauts", "list", "--stauts", "Pending")]
    [InlineData("--tpye", "groups", "--tpye", "SendClosingDocument")]
    [InlineData("--reson", "discard", "3f1c2a8e-0000-4000-8000-000000000001", "--reson", "sent by hand")]
    [InlineData("--batch-size", "replay", "--all", "--type", "SendClosingDocument", "--batch-size", "fifty")]
    [InlineData("--rate", "replay", "--all", "--type", "SendClosingDocument", "--rate", "fast")]
    [InlineData("--rate", "replay", "--all", "--type", "SendClosingDocument", "--rate", "NaN")]
    [InlineData("--page", "list", "--page", "2.5")]
    [InlineData("--type", "replay", "--all", "--type", "")]
    [InlineData("--type", "replay", "3f1c2a8e-0000-4000-8000-000000000001", "--type", "SendClosingDocument")]
    [InlineData("--status", "replay", "--all", "--status", "Discarded", "--type", "SendClosingDocument")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task A_mistyped_or_meaningless_option_is_a_usage_error_naming_it_and_sends_nothing(string named, params string[] args)
    {
        using var calls = new RecordingHandler();

        var (exit, _, error) = await RunAsync(calls, args);

        Assert.Equal(2, exit);
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.Contains("usage: bridge dead-letters", error, StringComparison.Ordinal);
        Assert.Empty(calls.Requests);
    }

    [Theory]
    [InlineData("replay", "--all")]
    [InlineData("replay", "--all", "--wait", "--batch-size", "10")]
    [InlineData("replay", "--all", "--status", "Pending")]
    public async Task Replay_all_without_a_filter_is_refused_without_confirmation(params string[] args)
    {
        using var calls = new RecordingHandler();

        var (exit, _, error) = await RunAsync(calls, args);

        Assert.Equal(2, exit);
        Assert.Contains("--yes", error, StringComparison.Ordinal);
        Assert.Empty(calls.Requests);
    }

    [Fact]
    public async Task Replay_all_confirmed_with_yes_starts_one_job_for_every_Pending_dead_letter()
    {
        using var calls = new RecordingHandler(_ => Job("Running"));

        var (exit, output, _) = await RunAsync(calls, "replay", "--all", "--yes", "--batch-size", "10", "--rate", "2.5");

        Assert.Equal(0, exit);
        var request = Assert.Single(calls.Requests);
        Assert.Equal((HttpMethod.Post, "/admin/dead-letters/replay"), (request.Method, request.Path));
        Assert.Equal("""{"filter":{},"batchSize":10,"ratePerSecond":2.5}""", request.Body);
        Assert.Contains("replay job", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_all_with_filters_sends_them_and_prints_the_job()
    {
        using var calls = new RecordingHandler(_ => Job("Running"));

        var (exit, output, _) = await RunAsync(calls, "replay", "--all", "--type", "SendClosingDocument", "--group", "g-1", "--from", "2026-01-01T00:00:00Z");

        Assert.Equal(0, exit);
        var request = Assert.Single(calls.Requests);
        Assert.Equal("""{"filter":{"messageType":"SendClosingDocument","group":"g-1","from":"2026-01-01T00:00:00Z"}}""", request.Body);
        Assert.Contains("replay job 7d1b7c1e-0000-4000-8000-000000000000: Running, 0 of 3 replayed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_sends_its_filters_and_paging_and_prints_a_table()
    {
        using var calls = new RecordingHandler(_ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("""{"items":[],"page":2,"pageSize":5,"total":0}""", Encoding.UTF8, "application/json"),
        });

        var (exit, output, _) = await RunAsync(calls, "list", "--status", "Pending", "--key", "a b", "--page", "2", "--page-size", "5");

        Assert.Equal(0, exit);
        Assert.Equal("/admin/dead-letters?status=Pending&key=a%20b&page=2&pageSize=5", Assert.Single(calls.Requests).PathAndQuery);
        Assert.StartsWith("ID", output, StringComparison.Ordinal);
        Assert.Contains("page 2 · 0 of 0", output, StringComparison.Ordinal);
    }

    internal static async Task<(int Exit, string Output, string Error)> RunAsync(HttpMessageHandler handler, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var all = args.Contains("--url") ? args : [.. args, "--url", Url, "--token", "operator-token-0123456789"];
        var exit = await DeadLetterCli.RunAsync(all, output, error, handler);
        return (exit, output.ToString(), error.ToString());
    }

    private static HttpResponseMessage Job(string state) => new(HttpStatusCode.Accepted)
    {
        Content = new StringContent(
            $$"""{"id":"7d1b7c1e-0000-4000-8000-000000000000","state":"{{state}}","total":3,"replayed":0,"skipped":0,"failed":0}""",
            Encoding.UTF8,
            "application/json"),
    };
}

/// <summary>Records every request the CLI sends; answers with <c>answer</c>, or passes it on to a real handler.</summary>
internal sealed class RecordingHandler : DelegatingHandler
{
    private readonly Func<HttpRequestMessage, HttpResponseMessage>? _answer;

    public RecordingHandler(HttpMessageHandler inner)
        : base(inner)
    {
    }

    public RecordingHandler(Func<HttpRequestMessage, HttpResponseMessage>? answer = null) => _answer = answer;

    public List<(HttpMethod Method, string Path, string PathAndQuery, string? Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        lock (Requests)
        {
            Requests.Add((request.Method, request.RequestUri!.AbsolutePath, request.RequestUri.PathAndQuery, body));
        }

        return _answer is not null ? _answer(request)
            : InnerHandler is not null ? await base.SendAsync(request, cancellationToken)
            : throw new InvalidOperationException($"The CLI called {request.Method} {request.RequestUri} where it should not have.");
    }
}
