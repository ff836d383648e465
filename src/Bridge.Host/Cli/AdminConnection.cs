using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Host.Cli;

/// <summary>
/// What every admin command (<c>bridge dead-letters …</c>, <c>bridge effects …</c>) shares: <c>--url</c> (or
/// <c>BRIDGE_ADMIN_URL</c>), <c>--token</c> (or <c>BRIDGE_ADMIN_TOKEN</c>, sent as a bearer token and never printed),
/// <c>--json</c>, and the HTTP session to a running Bridge's admin API they open.
/// </summary>
internal sealed class AdminConnection
{
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly HttpMessageHandler? _handler;

    public AdminConnection(TextWriter output, TextWriter error, HttpMessageHandler? handler)
    {
        _output = output;
        _error = error;
        _handler = handler;
        Url.Validators.Add(CliParts.NeedsAValue);
        Token.Validators.Add(CliParts.NeedsAValue);
    }

    public Option<string> Url { get; } = new("--url")
    {
        Description = "Bridge's base URL [default: BRIDGE_ADMIN_URL, else http://localhost:8080]",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string> Token { get; } = new("--token")
    {
        Description = "An operator token of the admin API [default: BRIDGE_ADMIN_TOKEN]",
        HelpName = "token",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Print the API's JSON instead of tables", Recursive = true };

    public TextWriter Output => _output;

    /// <summary>Adds <c>--url</c>, <c>--token</c> and <c>--json</c> to a command group; its subcommands inherit them.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
        command.Options.Add(Json);
    }

    /// <summary>Opens a session to the admin API and runs <paramref name="act"/>; an unreachable Bridge is exit code 1.</summary>
    public async Task<int> WithSessionAsync(ParseResult result, Func<AdminSession, Task<int>> act)
    {
        var url = result.GetValue(Url) ?? Environment.GetEnvironmentVariable("BRIDGE_ADMIN_URL") ?? "http://localhost:8080";
        var token = result.GetValue(Token) ?? Environment.GetEnvironmentVariable("BRIDGE_ADMIN_TOKEN");
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var baseAddress))
        {
            await _error.WriteLineAsync($"--url is not an absolute URL: {url}");
            return 2;
        }

        using var http = _handler is null ? new HttpClient() : new HttpClient(_handler, disposeHandler: false);
        http.BaseAddress = baseAddress;
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            return await act(new AdminSession(http, _output, _error, result.GetValue(Json)));
        }
        catch (HttpRequestException ex)
        {
            await _error.WriteLineAsync($"cannot reach Bridge at {baseAddress}: {ex.Message}");
            return 1;
        }
    }
}

/// <summary>One command's conversation with the admin API: requests, problems on stderr, JSON or tables on stdout.</summary>
internal sealed class AdminSession(HttpClient http, TextWriter output, TextWriter error, bool json)
{
    internal static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public TextWriter Output => output;

    public TextWriter Error => error;

    /// <summary>True with <c>--json</c>: the API's JSON is printed instead of tables.</summary>
    public bool Json => json;

    /// <summary>Sends the request; prints the JSON answer with --json (unless quiet) and a problem to stderr.</summary>
    public async Task<(bool Ok, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, bool quiet = false)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonNode? parsed = null;
        try
        {
            parsed = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            // Not JSON (e.g. a proxy's error page): shown as text below.
        }

        if (!response.IsSuccessStatusCode)
        {
            var detail = parsed is JsonObject problem ? $"{Text(problem, "title")}: {Text(problem, "detail")}" : text;
            await error.WriteLineAsync($"{(int)response.StatusCode} {response.ReasonPhrase} — {detail}");
            return (false, parsed);
        }

        if (json && !quiet)
        {
            await output.WriteLineAsync(parsed?.ToJsonString(Indented) ?? "");
        }

        return (true, parsed);
    }

    public async Task WriteTableAsync(string[] headings, List<string[]> rows)
    {
        var widths = headings.Select((heading, i) => rows.Select(row => row[i].Length).Append(heading.Length).Max()).ToArray();
        var line = new StringBuilder();
        foreach (var row in rows.Prepend(headings))
        {
            line.Clear();
            for (var i = 0; i < row.Length; i++)
            {
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            await output.WriteLineAsync(line.ToString().TrimEnd());
        }
    }

    public static void AddQuery(Dictionary<string, string> query, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            query[name] = value;
        }
    }

    public static string QueryString(Dictionary<string, string> query) =>
        query.Count == 0 ? "" : "?" + string.Join("&", query.Select(pair => $"{pair.Key}={Uri.EscapeDataString(pair.Value)}"));

    public static string Text(JsonNode? node, string name) => node?[name] switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => other.ToJsonString(),
    };

    public static string Time(JsonNode? node, string name) =>
        DateTimeOffset.TryParse(Text(node, name), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : Text(node, name);

    public static string Shorten(string text, int max)
    {
        var oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)] + "…";
    }
}
