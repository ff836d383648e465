using System.Net;
using System.Text;
using Bridge.Host.Cli;
using Bridge.Host.Effects;
using Bridge.Tests.DeadLetters;

namespace Bridge.Tests.Effects;

/// <summary><c>bridge effects</c>'s command line alone: its help, what it refuses before calling anything, and what it sends.</summary>
public sealed class EffectCliParsingTests
{
    private const string Url = "http://bridge.invalid/";
    private const string Token = "operator-token-0123456789";
    private static readonly string EffectId = new('a', 64);

    public static readonly TheoryData<string[]> Commands = new()
    {
        Array.Empty<string>(),
        new[] { "list" },
        new[] { "show" },
        new[] { "resolve" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_on_every_command_prints_its_usage_and_exits_0(string[] command)
    {
        using var calls = new RecordingHandler();

        var (exit, output, error) = await RunAsync(calls, [.. command, "--help"]);

        Assert.Equal(0, exit);
        Assert.Contains(string.Join(' ', ["bridge effects", .. command]), output, StringComparison.Ordinal);
        Assert.Contains("--json", output, StringComparison.Ordinal);
        Assert.Equal("", error);
        Assert.Empty(calls.Requests);
    }

    [Theory]
    [InlineData("--note", "resolve", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--as", "not-applied")]
    [InlineData("--note", "resolve", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--as", "not-applied", "--note", "   ")]
    [InlineData("--as", "resolve", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--note", "checked")]
    [InlineData("--as maybe", "resolve", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--as", "maybe", "--note", "checked")]
    [InlineData("--resource-id", "resolve", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--as", "not-applied", "--resource-id", "42", "--note", "checked")]
    [InlineData("not an effect id", "resolve", "12345", "--as", "applied", "--note", "checked")]
    [InlineData("not an effect id", "show", "3f1c2a8e-0000-4000-8000-000000000001")]
    [InlineData("--nte", "resolve", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--as", "applied", "--nte", "checked")]
    [InlineData("--state Lost", "list", "--state", "Lost")]
    [InlineData("--state 4", "list", "--state", "4")]
    [InlineData("--older-than soon", "list", "--older-than", "soon")]
    [InlineData("--older-than applies only without --state", "list", "--state", "Unknown", "--older-than", "00:10:00")]
    [InlineData("--page", "list", "--page", "2.5")]
    [InlineData("--sate", "list", "--sate", "Unknown")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task A_mistyped_or_meaningless_input_is_a_usage_error_naming_it_and_sends_nothing(string named, params string[] args)
    {
        using var calls = new RecordingHandler();

        var (exit, _, error) = await RunAsync(calls, args);

        Assert.Equal(2, exit);
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.Contains("usage: bridge effects", error, StringComparison.Ordinal);
        Assert.Empty(calls.Requests);
    }

    [Fact]
    public async Task Resolve_sends_the_resolution_note_resource_and_attempt_and_says_what_to_do_next()
    {
        using var calls = new RecordingHandler(_ => Json(HttpStatusCode.OK, $$"""{"id":"{{EffectId}}","outcome":"Done","state":"Applied","detail":"Resolved as Applied from Unknown."}"""));

        var (exit, output, _) = await RunAsync(
            calls, "resolve", EffectId.ToUpperInvariant(), "--as", "Applied", "--resource-id", " corr-7 ", "--note", " olga: correction corr-7 is this line's ", "--attempt", "0123");

        Assert.Equal(0, exit);
        var request = Assert.Single(calls.Requests);
        Assert.Equal((HttpMethod.Post, $"/admin/effects/{EffectId.ToUpperInvariant()}/resolve"), (request.Method, request.Path));
        Assert.Equal("""{"resolution":"Applied","note":"olga: correction corr-7 is this line\u0027s","resourceId":"corr-7","attempt":"0123"}""", request.Body);
        Assert.Contains("resolved as Applied", output, StringComparison.Ordinal);
        Assert.Contains("replay its dead letter", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_resolution_prints_the_APIs_problem_and_exits_1()
    {
        using var calls = new RecordingHandler(_ => Json(
            HttpStatusCode.Conflict, """{"title":"Not possible in the effect's current state","detail":"Only an Unknown effect (or an open one past its wait) can be resolved: it is already resolved as Applied.","effectState":"Applied"}"""));

        var (exit, output, error) = await RunAsync(calls, "resolve", EffectId, "--as", "not-applied", "--note", "again");

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Contains("409", error, StringComparison.Ordinal);
        Assert.Contains("already resolved as Applied", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_sends_its_filters_and_prints_every_column_operators_need()
    {
        using var calls = new RecordingHandler(_ => Json(HttpStatusCode.OK, $$"""
            {"items":[{"id":"{{EffectId}}","kind":"statement line","scope":"payment-statement-line:1","key":"002021|BS-1","group":"002021",
              "owner":"msg-1","attempt":"0123","state":"Unknown","open":false,"sentAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:06:05Z",
              "secondsSinceSent":3725.5,"asyncTaskId":null,"resourceId":null,"evidence":{"reason":"payment 2021 (002021) can no longer be read"},
              "resolvable":true,"notResolvableBecause":null,"audit":null}],
             "total":1,"page":1,"pageSize":50,"state":null,"openOlderThanSeconds":420,"openResolvableAfterSeconds":420}
            """));

        var (exit, output, _) = await RunAsync(calls, "list", "--owner", "msg 1", "--scope", "payment-statement-line:1", "--older-than", "00:10:00", "--page-size", "5");

        Assert.Equal(0, exit);
        Assert.Equal("/admin/effects?olderThan=00%3A10%3A00&scope=payment-statement-line%3A1&owner=msg%201&pageSize=5", Assert.Single(calls.Requests).PathAndQuery);
        var lines = output.Split('\n');
        Assert.StartsWith("ID", lines[0], StringComparison.Ordinal);
        foreach (var column in new[] { "STATE", "SCOPE", "KEY", "GROUP", "OWNER", "SENT AT", "AGE", "RESOURCE", "EVIDENCE" })
        {
            Assert.Contains(column, lines[0], StringComparison.Ordinal);
        }

        foreach (var value in new[] { EffectId, "Unknown", "payment-statement-line:1", "002021|BS-1", "msg-1", "2026-01-02 03:04:05Z", "01:02:05", "can no longer be read" })
        {
            Assert.Contains(value, lines[1], StringComparison.Ordinal);
        }

        Assert.Contains("1 of 1 (Unknown, and open ones sent 420 s ago or more)", output, StringComparison.Ordinal);
    }

    private static Task<(int Exit, string Output, string Error)> RunAsync(HttpMessageHandler handler, params string[] args) => RunWithAsync(handler, args);

    private static async Task<(int Exit, string Output, string Error)> RunWithAsync(HttpMessageHandler handler, string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await EffectCli.RunAsync([.. args, "--url", Url, "--token", Token], output, error, handler);
        return (exit, output.ToString(), error.ToString());
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string body) => new(status)
    {
        Content = new StringContent(body, Encoding.UTF8, "application/json"),
    };
}
