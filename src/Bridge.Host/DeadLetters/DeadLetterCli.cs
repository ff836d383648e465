using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Host.DeadLetters;

/// <summary>
/// <c>bridge dead-letters list | groups | show | replay | edit | discard | restore</c>: the admin API from a terminal. Talks
/// to a running Bridge over HTTP (<c>--url</c> or <c>BRIDGE_ADMIN_URL</c>) with an operator token (<c>--token</c> or
/// <c>BRIDGE_ADMIN_TOKEN</c>); prints tables for people and, with <c>--json</c>, the API's JSON for scripts.
/// Exit codes: 0 done (and <c>--help</c>), 1 refused or failed (the API's problem is printed), 2 bad usage — an unknown
/// option or command, a missing or malformed value, or a bulk replay of everything without <c>--yes</c>: nothing is sent then.
/// </summary>
public static class DeadLetterCli
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var cli = new Commands(output, error, handler);
        // No response files: an argument starting with '@' is an ERP key or a text to search for, never a file to expand.
        var parsed = cli.Bridge.Parse(["dead-letters", .. args], new ParserConfiguration { ResponseFileTokenReplacer = null });
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };

        if (parsed.Action is not HelpAction && parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors.Select(e => e.Message).Distinct(StringComparer.Ordinal))
            {
                await error.WriteLineAsync(problem);
            }

            var command = parsed.CommandResult.Command;
            await error.WriteLineAsync("usage: " + Synopsis(command));
            await error.WriteLineAsync($"run '{PathOf(command)} --help' for every option");
            return 2;
        }

        return await parsed.InvokeAsync(invocation, cancellationToken);
    }

    internal static string PathOf(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is not null; symbol = symbol.Parents.FirstOrDefault())
        {
            names.Insert(0, symbol.Name);
        }

        return string.Join(' ', names);
    }

    /// <summary>One line: the command, its arguments and its required options, e.g. <c>bridge dead-letters discard &lt;id&gt;... --reason &lt;text&gt; [options]</c>.</summary>
    internal static string Synopsis(Command command)
    {
        if (command.Subcommands.Count > 0)
        {
            return $"{PathOf(command)} <{string.Join('|', command.Subcommands.Select(c => c.Name))}> [options]";
        }

        var parts = new List<string> { PathOf(command) };
        foreach (var argument in command.Arguments)
        {
            var name = $"<{argument.Name}>" + (argument.Arity.MaximumNumberOfValues > 1 ? "..." : "");
            parts.Add(argument.Arity.MinimumNumberOfValues == 0 ? $"[{name}]" : name);
        }

        parts.AddRange(command.Options.Where(o => o.Required).Select(o => $"{o.Name} <{o.HelpName ?? o.Name.TrimStart('-')}>"));
        parts.Add("[options]");
        return string.Join(' ', parts);
    }

    private static bool Given(SymbolResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>The command tree; its actions write to this run's output and error and call through this run's handler.</summary>
    private sealed class Commands
    {
        private readonly TextWriter _output;
        private readonly TextWriter _error;
        private readonly HttpMessageHandler? _handler;

        private readonly Option<string> _url = new("--url")
        {
            Description = "Bridge's base URL [default: BRIDGE_ADMIN_URL, else http://localhost:8080]",
            HelpName = "url",
            Recursive = true,
        };

        private readonly Option<string> _token = new("--token")
        {
            Description = "An operator token of the admin API [default: BRIDGE_ADMIN_TOKEN]",
            HelpName = "token",
            Recursive = true,
        };

        private readonly Option<bool> _json = new("--json") { Description = "Print the API's JSON instead of tables", Recursive = true };

        private readonly Option<string> _status = new("--status") { Description = "Pending, Replaying, Replayed or Discarded", HelpName = "status" };

        /// <summary>The filters that narrow a selection, each with the query parameter the API reads it from.</summary>
        private readonly (Option<string> Option, string Parameter)[] _narrowing =
        [
            (new Option<string>("--type") { Description = "Message type, e.g. SendClosingDocument", HelpName = "messageType" }, "messageType"),
            (new Option<string>("--queue") { Description = "Source queue, e.g. bridge.send-closing-document", HelpName = "queue" }, "queue"),
            (new Option<string>("--key") { Description = "The ERP's key of the document or payment", HelpName = "erpKey" }, "key"),
            (new Option<string>("--exception") { Description = "Exception type of the failure", HelpName = "type" }, "exceptionType"),
            (new Option<string>("--group") { Description = "Failure group (see 'groups')", HelpName = "failureGroup" }, "group"),
            (new Option<string>("--text") { Description = "Text in the failure, the body, the ERP key or the message id", HelpName = "text" }, "text"),
            (new Option<string>("--from") { Description = "Last failed at or after this time", HelpName = "time" }, "from"),
            (new Option<string>("--to") { Description = "Last failed before this time", HelpName = "time" }, "to"),
        ];

        private readonly Option<int?> _page = Number<int>("--page", "Page number, from 1");
        private readonly Option<int?> _pageSize = Number<int>("--page-size", "Dead letters per page");
        private readonly Option<bool> _all = new("--all") { Description = "Replay every Pending dead letter the filters match, as a background job" };
        private readonly Option<bool> _yes = new("--yes") { Description = "Confirm replay --all without any filter: every Pending dead letter" };
        private readonly Option<bool> _wait = new("--wait") { Description = "With --all: wait for the job to end and print its result" };
        private readonly Option<int?> _batchSize = Number<int>("--batch-size", "With --all: dead letters per batch");
        private readonly Option<double?> _rate = Number<double>("--rate", "With --all: dead letters per second");
        private readonly Option<string> _bodyFile = new("--body-file") { Description = "The corrected body (JSON)", HelpName = "file.json", Required = true };
        private readonly Option<string> _reason = new("--reason") { Description = "Why it is discarded (kept in the audit trail)", HelpName = "text", Required = true };

        public Commands(TextWriter output, TextWriter error, HttpMessageHandler? handler)
        {
            _output = output;
            _error = error;
            _handler = handler;
            foreach (var option in new[] { _url, _token, _status, _bodyFile, _reason }.Concat(_narrowing.Select(f => f.Option)))
            {
                option.Validators.Add(NeedsAValue);
            }

            var deadLetters = new Command(
                "dead-letters",
                "Find, inspect, replay, edit and discard the messages Bridge could not process, through a running Bridge's admin API. "
                + "Exit codes: 0 done, 1 refused or failed (the API's problem is printed), 2 bad usage (nothing is sent).")
            {
                _url, _token, _json,
                List(), Groups(), Show(), Replay(), Edit(), Discard(), Restore(),
            };
            Bridge = new Command("bridge") { new HelpOption { Recursive = true }, deadLetters };
        }

        public Command Bridge { get; }

        private Command List()
        {
            var command = new Command("list", "Dead letters, newest failure first.") { _page, _pageSize };
            AddFilters(command);
            command.SetAction((result, ct) => WithSessionAsync(result, session => session.ListAsync(Filters(result), result.GetValue(_page), result.GetValue(_pageSize), ct)));
            return command;
        }

        private Command Groups()
        {
            var command = new Command("groups", "Counts of dead letters by failure cause (exception type and normalised message).");
            AddFilters(command);
            command.SetAction((result, ct) => WithSessionAsync(result, session => session.GroupsAsync(Filters(result), ct)));
            return command;
        }

        private Command Show()
        {
            var id = Id();
            var command = new Command("show", "One dead letter: body, headers, failure and audit trail.") { id };
            command.SetAction((result, ct) => WithSessionAsync(result, session => session.ShowAsync(result.GetRequiredValue(id), ct)));
            return command;
        }

        private Command Replay()
        {
            var ids = Ids(ArgumentArity.ZeroOrMore);
            var command = new Command(
                "replay",
                "Send dead letters back to their original queue: the ones named by id, or with --all every Pending one the filters match "
                + "(a background job, in batches at a rate limit). --all without a filter needs --yes.")
            {
                ids, _all, _yes, _wait, _batchSize, _rate,
            };
            AddFilters(command);
            command.Validators.Add(result =>
            {
                // A command's errors keep its arguments' validators from running: a mistyped option is named here, and
                // alone, since whatever follows it was not meant as an id.
                var given = result.GetValue(ids) ?? [];
                if (given.Any(id => id.StartsWith('-')))
                {
                    foreach (var option in given.Where(id => id.StartsWith('-')))
                    {
                        result.AddError($"Unrecognized option '{option}'.");
                    }

                    return;
                }

                if (!result.GetValue(_all))
                {
                    if (given.Length == 0)
                    {
                        result.AddError("replay takes dead letter ids, or --all with filters");
                    }

                    foreach (var option in AllOnly().Where(option => Given(result, option)))
                    {
                        result.AddError($"{option.Name} applies only to replay --all");
                    }

                    return;
                }

                if (given.Length > 0)
                {
                    result.AddError("replay takes dead letter ids or --all with filters, not both");
                }

                // A job replays Pending dead letters only, whatever status a filter names.
                if (result.GetValue(_status) is { } status && !string.Equals(status.Trim(), "Pending", StringComparison.OrdinalIgnoreCase))
                {
                    result.AddError($"--status {status}: replay --all takes Pending dead letters only");
                }

                if (!result.GetValue(_yes) && !_narrowing.Any(filter => Given(result, filter.Option)))
                {
                    result.AddError(
                        "replay --all without a filter replays every Pending dead letter: narrow it with "
                        + string.Join(", ", _narrowing.Select(filter => filter.Option.Name)) + ", or confirm with --yes");
                }
            });
            command.SetAction((result, ct) => WithSessionAsync(result, session => result.GetValue(_all)
                ? session.ReplayAllAsync(Filters(result), result.GetValue(_batchSize), result.GetValue(_rate), result.GetValue(_wait), ct)
                : session.ActOnEachAsync(result.GetValue(ids)!, "replay", null, ct)));
            return command;
        }

        private Command Edit()
        {
            var id = Id();
            var command = new Command("edit", "Send a corrected body as a new message and archive the original (only with Bridge:DeadLetters:AllowEditAndReplay).")
            {
                id, _bodyFile,
            };
            command.SetAction((result, ct) => WithSessionAsync(result, session => session.EditAsync(result.GetRequiredValue(id), result.GetRequiredValue(_bodyFile), ct)));
            return command;
        }

        private Command Discard()
        {
            var ids = Ids(ArgumentArity.OneOrMore);
            var command = new Command("discard", "Archive dead letters with a reason.") { ids, _reason };
            command.SetAction((result, ct) => WithSessionAsync(result, session =>
                session.ActOnEachAsync(result.GetRequiredValue(ids), "discard", new JsonObject { ["reason"] = result.GetRequiredValue(_reason) }, ct)));
            return command;
        }

        private Command Restore()
        {
            var ids = Ids(ArgumentArity.OneOrMore);
            var command = new Command("restore", "Make discarded dead letters Pending again.") { ids };
            command.SetAction((result, ct) => WithSessionAsync(result, session => session.ActOnEachAsync(result.GetRequiredValue(ids), "restore", null, ct)));
            return command;
        }

        private static Argument<string> Id()
        {
            var id = new Argument<string>("id") { Description = "The dead letter's id" };
            id.Validators.Add(NotAnOption);
            return id;
        }

        private static Argument<string[]> Ids(ArgumentArity arity)
        {
            var ids = new Argument<string[]>("id") { Description = "Dead letter ids", Arity = arity };
            ids.Validators.Add(NotAnOption);
            return ids;
        }

        /// <summary>What a command takes for an id but looks like an option is a mistyped option, e.g. <c>--tpye</c>.</summary>
        private static void NotAnOption(ArgumentResult result)
        {
            foreach (var token in result.Tokens.Where(token => token.Value.StartsWith('-')))
            {
                result.AddError($"Unrecognized option '{token.Value}'.");
            }
        }

        private static Option<T?> Number<T>(string name, string description)
            where T : struct, INumber<T> => new(name)
            {
                Description = description,
                HelpName = "n",
                CustomParser = result =>
                {
                    var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                    if (T.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value))
                    {
                        return value;
                    }

                    result.AddError($"{name} needs a number, not '{text}'");
                    return null;
                },
            };

        private static void NeedsAValue(OptionResult result)
        {
            var value = result.GetValueOrDefault<string?>();
            if (string.IsNullOrWhiteSpace(value) || value.StartsWith("--", StringComparison.Ordinal))
            {
                result.AddError($"{result.Option.Name} needs a value" + (string.IsNullOrWhiteSpace(value) ? "" : $", not the option '{value}'"));
            }
        }

        private IEnumerable<Option> AllOnly() =>
            new Option[] { _status, _yes, _wait, _batchSize, _rate }.Concat(_narrowing.Select(filter => filter.Option));

        private void AddFilters(Command command)
        {
            command.Options.Add(_status);
            foreach (var (option, _) in _narrowing)
            {
                command.Options.Add(option);
            }
        }

        private Dictionary<string, string> Filters(ParseResult result)
        {
            // In the order the API documents them; a filter left out is absent from the query.
            var query = new Dictionary<string, string>(StringComparer.Ordinal);
            if (result.GetValue(_status) is { } status)
            {
                query["status"] = status;
            }

            foreach (var (option, parameter) in _narrowing)
            {
                if (result.GetValue(option) is { } value)
                {
                    query[parameter] = value;
                }
            }

            return query;
        }

        private async Task<int> WithSessionAsync(ParseResult result, Func<Session, Task<int>> act)
        {
            var url = result.GetValue(_url) ?? Environment.GetEnvironmentVariable("BRIDGE_ADMIN_URL") ?? "http://localhost:8080";
            var token = result.GetValue(_token) ?? Environment.GetEnvironmentVariable("BRIDGE_ADMIN_TOKEN");
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
                return await act(new Session(http, _output, _error, result.GetValue(_json)));
            }
            catch (HttpRequestException ex)
            {
                await _error.WriteLineAsync($"cannot reach Bridge at {baseAddress}: {ex.Message}");
                return 1;
            }
        }
    }

    internal sealed class Session(HttpClient http, TextWriter output, TextWriter error, bool json)
    {
        internal static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

        public async Task<int> ListAsync(Dictionary<string, string> filters, int? page, int? pageSize, CancellationToken cancellationToken)
        {
            var query = new Dictionary<string, string>(filters, StringComparer.Ordinal);
            AddQuery(query, "page", page?.ToString(CultureInfo.InvariantCulture));
            AddQuery(query, "pageSize", pageSize?.ToString(CultureInfo.InvariantCulture));
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

        public async Task<int> GroupsAsync(Dictionary<string, string> filters, CancellationToken cancellationToken)
        {
            var (ok, body) = await SendAsync(HttpMethod.Get, "admin/dead-letters/groups" + QueryString(filters), null, cancellationToken);
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

        public async Task<int> ShowAsync(string id, CancellationToken cancellationToken)
        {
            var (ok, letter) = await SendAsync(HttpMethod.Get, $"admin/dead-letters/{Uri.EscapeDataString(id)}", null, cancellationToken);
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

        public async Task<int> ReplayAllAsync(Dictionary<string, string> filters, int? batchSize, double? rate, bool wait, CancellationToken cancellationToken)
        {
            var filter = new JsonObject();
            foreach (var (name, value) in filters)
            {
                filter[name] = value;
            }

            var request = new JsonObject { ["filter"] = filter };
            if (batchSize is { } batch)
            {
                request["batchSize"] = batch;
            }

            if (rate is { } perSecond)
            {
                request["ratePerSecond"] = perSecond;
            }

            var (ok, job) = await SendAsync(HttpMethod.Post, "admin/dead-letters/replay", request, cancellationToken, quiet: !json || wait);
            if (!ok)
            {
                return 1;
            }

            while (wait && Text(job, "state") == "Running")
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
                if (wait)
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

        public async Task<int> EditAsync(string id, string file, CancellationToken cancellationToken)
        {
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

            return await ActAsync(id, "edit-and-replay", new JsonObject { ["body"] = body }, cancellationToken);
        }

        /// <summary>One action on each dead letter in turn; the exit code is the worst of them.</summary>
        public async Task<int> ActOnEachAsync(IEnumerable<string> ids, string action, JsonObject? body, CancellationToken cancellationToken)
        {
            var exit = 0;
            foreach (var id in ids)
            {
                exit = Math.Max(exit, await ActAsync(id, action, body?.DeepClone(), cancellationToken));
            }

            return exit;
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
        internal async Task<(bool Ok, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, bool quiet = false)
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

        internal async Task WriteTableAsync(string[] headings, List<string[]> rows)
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

        internal static void AddQuery(Dictionary<string, string> query, string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                query[name] = value;
            }
        }

        internal static string QueryString(Dictionary<string, string> query) =>
            query.Count == 0 ? "" : "?" + string.Join("&", query.Select(pair => $"{pair.Key}={Uri.EscapeDataString(pair.Value)}"));

        internal static string Text(JsonNode? node, string name) => node?[name] switch
        {
            null => "",
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            var other => other.ToJsonString(),
        };

        internal static string Time(JsonNode? node, string name) =>
            DateTimeOffset.TryParse(Text(node, name), CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
                ? time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
                : Text(node, name);

        internal static string Shorten(string text, int max)
        {
            var oneLine = text.ReplaceLineEndings(" ");
            return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)] + "…";
        }
    }
}
