using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Host.DeadLetters;

/// <summary>
/// <c>bridge dead-letters list | groups | show | replay | edit | discard | restore</c>: the admin API from a terminal. Talks
/// to a running Bridge over HTTP (<c>--url</c> or <c>BRIDGE_ADMIN_URL</c>) with an operator token (<c>--token</c> or
/// <c>BRIDGE_ADMIN_TOKEN</c>); prints tables for people and, with <c>--json</c>, the API's JSON for scripts.
/// Exit codes: 0 done, 1 refused or failed (the API's problem is printed), 2 bad usage.
/// </summary>
public static class DeadLetterCli
{
    public const string Usage = """
        usage: bridge dead-letters <command> [options]

          list     [filters] [--page N] [--page-size N]    dead letters, newest failure first
          groups   [filters]                               counts by failure cause
          show     <id>                                    body, headers, failure and audit trail
          replay   <id>...                                 send back to the original queue
          replay   --all [filters] [--batch-size N] [--rate N] [--wait]
                                                           replay every Pending match as a background job
          edit     <id> --body-file <file.json>            edit and replay as a new message (if enabled)
          discard  <id> --reason <text>                    archive with a reason
          restore  <id>                                    make a discarded dead letter Pending again

        filters: --status Pending|Replaying|Replayed|Discarded --type <messageType> --queue <queue> --key <erpKey>
                 --exception <type> --group <failureGroup> --text <text> --from <time> --to <time>
        common:  --url <base url> (BRIDGE_ADMIN_URL, default http://localhost:8080)
                 --token <token> (BRIDGE_ADMIN_TOKEN)   --json
        """;

    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private static readonly Dictionary<string, string> FilterOptions = new(StringComparer.Ordinal)
    {
        ["--status"] = "status",
        ["--type"] = "messageType",
        ["--queue"] = "queue",
        ["--key"] = "key",
        ["--exception"] = "exceptionType",
        ["--group"] = "group",
        ["--text"] = "text",
        ["--from"] = "from",
        ["--to"] = "to",
    };

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!Arguments.TryParse(args, out var parsed, out var problem))
        {
            await error.WriteLineAsync(problem + Environment.NewLine + Usage);
            return 2;
        }

        var url = parsed.Option("--url") ?? Environment.GetEnvironmentVariable("BRIDGE_ADMIN_URL") ?? "http://localhost:8080";
        var token = parsed.Option("--token") ?? Environment.GetEnvironmentVariable("BRIDGE_ADMIN_TOKEN");
        if (!Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var baseAddress))
        {
            await error.WriteLineAsync($"--url is not an absolute URL: {url}");
            return 2;
        }

        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = baseAddress;
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var cli = new Session(http, parsed, output, error, parsed.Flag("--json"));
        try
        {
            return parsed.Command switch
            {
                "list" => await cli.ListAsync(cancellationToken),
                "groups" => await cli.GroupsAsync(cancellationToken),
                "show" => await cli.ShowAsync(cancellationToken),
                "replay" => await cli.ReplayAsync(cancellationToken),
                "edit" => await cli.EditAsync(cancellationToken),
                "discard" => await cli.DiscardAsync(cancellationToken),
                "restore" => await cli.RestoreAsync(cancellationToken),
                _ => await cli.UsageAsync($"unknown command '{parsed.Command}'"),
            };
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"cannot reach Bridge at {baseAddress}: {ex.Message}");
            return 1;
        }
    }

    private sealed class Session(HttpClient http, Arguments args, TextWriter output, TextWriter error, bool json)
    {
        public async Task<int> ListAsync(CancellationToken cancellationToken)
        {
            var query = FilterQuery();
            AddQuery(query, "page", args.Option("--page"));
            AddQuery(query, "pageSize", args.Option("--page-size"));
            var (ok, body) = await SendAsync(HttpMethod.Get, "admin/dead-letters" + QueryString(query), null, cancellationToken);
            if (!ok || json)
            {
                return ok ? 0 : 1;
            }

            var rows = body!["items"]!.AsArray().Select(item => new[]
            {
                Text(item, "id"), Text(item, "status"), Text(item, "messageType"), Text(item, "erpKey"), Text(item, "failureCount"),
                Time(item, "lastFailedAt"), Shorten(Text(item, "exceptionType").Split('.')[^1] + ": " + Text(item, "exceptionMessage"), 60),
            }).ToList();
            await WriteTableAsync(["ID", "STATUS", "TYPE", "KEY", "FAILS", "LAST FAILED", "REASON"], rows);
            await output.WriteLineAsync($"page {Text(body, "page")} · {rows.Count} of {Text(body, "total")}");
            return 0;
        }

        public async Task<int> GroupsAsync(CancellationToken cancellationToken)
        {
            var (ok, body) = await SendAsync(HttpMethod.Get, "admin/dead-letters/groups" + QueryString(FilterQuery()), null, cancellationToken);
            if (!ok || json)
            {
                return ok ? 0 : 1;
            }

            var rows = body!.AsArray().Select(group => new[]
            {
                Text(group, "count"), Text(group, "failureGroup"), Text(group, "exceptionType"), Time(group, "firstSeen"), Time(group, "lastSeen"),
                Shorten(Text(group, "normalizedMessage"), 60),
            }).ToList();
            await WriteTableAsync(["COUNT", "GROUP", "EXCEPTION", "FIRST SEEN", "LAST SEEN", "MESSAGE"], rows);
            return 0;
        }

        public async Task<int> ShowAsync(CancellationToken cancellationToken)
        {
            if (args.Positional.Count != 1)
            {
                return await UsageAsync("show takes one dead letter id");
            }

            var (ok, letter) = await SendAsync(HttpMethod.Get, $"admin/dead-letters/{Uri.EscapeDataString(args.Positional[0])}", null, cancellationToken);
            if (!ok || json)
            {
                return ok ? 0 : 1;
            }

            foreach (var field in new[] { "id", "status", "statusReason", "sourceQueue", "messageType", "messageId", "erpKey", "correlationId", "contentType", "attemptCount", "failureCount", "firstFailedAt", "lastFailedAt", "replayCount", "exceptionType", "exceptionMessage", "failureGroup" })
            {
                await output.WriteLineAsync($"{field,-17} {Text(letter, field)}");
            }

            await output.WriteLineAsync("headers:");
            foreach (var (name, value) in letter!["headers"]!.AsObject())
            {
                await output.WriteLineAsync($"  {name}: {value}");
            }

            await output.WriteLineAsync($"body ({Text(letter, "bodyEncoding")}):");
            await output.WriteLineAsync(Text(letter, "body"));
            await output.WriteLineAsync("audit:");
            var rows = letter["audit"]!.AsArray().Select(entry => new[] { Time(entry, "at"), Text(entry, "actor"), Text(entry, "action"), Text(entry, "outcome"), Text(entry, "detail") }).ToList();
            await WriteTableAsync(["AT", "WHO", "ACTION", "OUTCOME", "DETAIL"], rows);
            return 0;
        }

        public async Task<int> ReplayAsync(CancellationToken cancellationToken)
        {
            if (args.Flag("--all"))
            {
                var filter = new JsonObject();
                foreach (var (name, value) in FilterQuery())
                {
                    filter[name] = value;
                }

                var request = new JsonObject { ["filter"] = filter };
                if (args.Option("--batch-size") is { } batch)
                {
                    request["batchSize"] = int.Parse(batch, CultureInfo.InvariantCulture);
                }

                if (args.Option("--rate") is { } rate)
                {
                    request["ratePerSecond"] = double.Parse(rate, CultureInfo.InvariantCulture);
                }

                var (ok, job) = await SendAsync(HttpMethod.Post, "admin/dead-letters/replay", request, cancellationToken, quiet: !json || args.Flag("--wait"));
                if (!ok)
                {
                    return 1;
                }

                while (args.Flag("--wait") && Text(job, "state") == "Running")
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                    (ok, job) = await SendAsync(HttpMethod.Get, $"admin/dead-letters/replay-jobs/{Text(job, "id")}", null, cancellationToken, quiet: true);
                    if (!ok)
                    {
                        return 1;
                    }
                }

                if (json)
                {
                    if (args.Flag("--wait"))
                    {
                        await output.WriteLineAsync(job!.ToJsonString(Indented));
                    }
                }
                else
                {
                    await output.WriteLineAsync($"replay job {Text(job, "id")}: {Text(job, "state")}, {Text(job, "replayed")} of {Text(job, "total")} replayed, {Text(job, "skipped")} skipped, {Text(job, "failed")} failed");
                }

                return Text(job, "state") is "Running" or "Completed" ? 0 : 1;
            }

            if (args.Positional.Count == 0)
            {
                return await UsageAsync("replay takes dead letter ids, or --all with filters");
            }

            var exit = 0;
            foreach (var id in args.Positional)
            {
                exit = Math.Max(exit, await ActAsync(id, "replay", null, cancellationToken));
            }

            return exit;
        }

        public async Task<int> EditAsync(CancellationToken cancellationToken)
        {
            if (args.Positional.Count != 1 || args.Option("--body-file") is not { } file)
            {
                return await UsageAsync("edit takes one dead letter id and --body-file");
            }

            JsonNode? body;
            try
            {
                body = JsonNode.Parse(await File.ReadAllTextAsync(file, cancellationToken));
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"cannot read {file}: {ex.Message}");
                return 2;
            }

            return await ActAsync(args.Positional[0], "edit-and-replay", new JsonObject { ["body"] = body }, cancellationToken);
        }

        public async Task<int> DiscardAsync(CancellationToken cancellationToken)
        {
            if (args.Positional.Count == 0 || args.Option("--reason") is not { } reason)
            {
                return await UsageAsync("discard takes dead letter ids and --reason");
            }

            var exit = 0;
            foreach (var id in args.Positional)
            {
                exit = Math.Max(exit, await ActAsync(id, "discard", new JsonObject { ["reason"] = reason }, cancellationToken));
            }

            return exit;
        }

        public async Task<int> RestoreAsync(CancellationToken cancellationToken)
        {
            if (args.Positional.Count == 0)
            {
                return await UsageAsync("restore takes dead letter ids");
            }

            var exit = 0;
            foreach (var id in args.Positional)
            {
                exit = Math.Max(exit, await ActAsync(id, "restore", null, cancellationToken));
            }

            return exit;
        }

        public async Task<int> UsageAsync(string problem)
        {
            await error.WriteLineAsync(problem + Environment.NewLine + Usage);
            return 2;
        }

        private async Task<int> ActAsync(string id, string action, JsonNode? body, CancellationToken cancellationToken)
        {
            var (ok, result) = await SendAsync(HttpMethod.Post, $"admin/dead-letters/{Uri.EscapeDataString(id)}/{action}", body, cancellationToken, quiet: !json);
            if (ok && !json)
            {
                var extra = result?["newMessageId"] is { } newId ? $" (new message {newId})" : "";
                await output.WriteLineAsync($"{id}: {action} done, now {Text(result, "status")}{extra}");
            }

            return ok ? 0 : 1;
        }

        /// <summary>Sends the request; prints the JSON answer with --json (unless quiet) and a problem to stderr.</summary>
        private async Task<(bool Ok, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, bool quiet = false)
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

        private Dictionary<string, string> FilterQuery()
        {
            var query = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (option, name) in FilterOptions)
            {
                AddQuery(query, name, args.Option(option));
            }

            return query;
        }

        private async Task WriteTableAsync(string[] headings, List<string[]> rows)
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

        private static void AddQuery(Dictionary<string, string> query, string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                query[name] = value;
            }
        }

        private static string QueryString(Dictionary<string, string> query) =>
            query.Count == 0 ? "" : "?" + string.Join("&", query.Select(pair => $"{pair.Key}={Uri.EscapeDataString(pair.Value)}"));

        private static string Text(JsonNode? node, string name) => node?[name] switch
        {
            null => "",
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            var other => other.ToJsonString(),
        };

        private static string Time(JsonNode? node, string name) =>
            DateTimeOffset.TryParse(Text(node, name), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
                ? time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
                : Text(node, name);

        private static string Shorten(string text, int max)
        {
            var oneLine = text.ReplaceLineEndings(" ");
            return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)] + "…";
        }
    }

    private sealed class Arguments
    {
        private static readonly HashSet<string> Flags = ["--json", "--all", "--wait"];
        private readonly Dictionary<string, string> options = new(StringComparer.Ordinal);
        private readonly HashSet<string> flags = new(StringComparer.Ordinal);

        public string Command { get; private init; } = "";

        public List<string> Positional { get; } = [];

        public string? Option(string name) => options.GetValueOrDefault(name);

        public bool Flag(string name) => flags.Contains(name);

        public static bool TryParse(string[] args, out Arguments parsed, out string problem)
        {
            parsed = new Arguments { Command = args.Length > 0 ? args[0] : "" };
            problem = "";
            if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
            {
                problem = "a command is required";
                return false;
            }

            for (var i = 1; i < args.Length; i++)
            {
                var arg = args[i];
                if (Flags.Contains(arg))
                {
                    parsed.flags.Add(arg);
                }
                else if (arg.StartsWith("--", StringComparison.Ordinal))
                {
                    if (i + 1 >= args.Length)
                    {
                        problem = $"{arg} needs a value";
                        return false;
                    }

                    parsed.options[arg] = args[++i];
                }
                else
                {
                    parsed.Positional.Add(arg);
                }
            }

            return true;
        }
    }
}
