using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Bridge.Host.Cli.AdminSession;
using static Bridge.Host.Cli.CliParts;

namespace Bridge.Host.Cli;

/// <summary>
/// <c>bridge dead-letters list | groups | show | replay | edit | discard | restore</c>: the admin API from a terminal. Talks
/// to a running Bridge over HTTP (<c>--url</c> or <c>BRIDGE_ADMIN_URL</c>) with an operator token (<c>--token</c> or
/// <c>BRIDGE_ADMIN_TOKEN</c>); prints tables for people and, with <c>--json</c>, the API's JSON for scripts.
/// Exit codes: 0 done (and <c>--help</c>), 1 refused or failed (the API's problem is printed), 2 bad usage — an unknown
/// option or command, a missing or malformed value, or a bulk replay of everything without <c>--yes</c>: nothing is sent then.
/// A client of <c>/admin/dead-letters</c> like the admin page (Admin/ui), it uses no type of the dead letters: it lives here,
/// with the command line it is part of, so that the dead letters do not depend on the command line that lists them.
/// </summary>
public static class DeadLetterCli
{
    /// <summary><c>bridge dead-letters &lt;args&gt;</c>, as <see cref="BridgeCli"/> runs it.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        return BridgeCli.RunAsync(["dead-letters", .. args], output, error, handler, cancellationToken);
    }

    /// <summary>The command tree; its actions write to this run's output and error and call through this run's handler.</summary>
    internal sealed class Commands
    {
        private readonly AdminConnection _admin;

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
        private readonly Option<bool> _dryRun = new("--dry-run") { Description = "With --all: print how many Pending dead letters the filters match and replay nothing" };
        private readonly Option<bool> _wait = new("--wait") { Description = "With --all: wait for the job to end and print its result" };
        private readonly Option<int?> _batchSize = Number<int>("--batch-size", "With --all: dead letters per batch");
        private readonly Option<double?> _rate = Number<double>("--rate", "With --all: dead letters per second");
        private readonly Option<string> _bodyFile = new("--body-file") { Description = "The corrected body (JSON)", HelpName = "file.json", Required = true };
        private readonly Option<string> _reason = new("--reason") { Description = "Why it is discarded (kept in the audit trail)", HelpName = "text", Required = true };

        public Commands(AdminConnection admin)
        {
            _admin = admin;
            foreach (var option in new[] { _status, _bodyFile, _reason }.Concat(_narrowing.Select(f => f.Option)))
            {
                option.Validators.Add(NeedsAValue);
            }

            Command = new Command(
                "dead-letters",
                "Find, inspect, replay, edit and discard the messages Bridge could not process, through a running Bridge's admin API. "
                + "Exit codes: 0 done, 1 refused or failed (the API's problem is printed), 2 bad usage (nothing is sent).")
            {
                List(), Groups(), Show(), Replay(), Edit(), Discard(), Restore(),
            };
            admin.AddTo(Command);
        }

        /// <summary><c>dead-letters</c> and its subcommands.</summary>
        public Command Command { get; }

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
                ids, _all, _yes, _dryRun, _wait, _batchSize, _rate,
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

                if (result.GetValue(_dryRun) && Given(result, _wait))
                {
                    result.AddError("--wait has nothing to wait for with --dry-run: nothing is replayed");
                }

                if (!result.GetValue(_yes) && !result.GetValue(_dryRun) && !_narrowing.Any(filter => Given(result, filter.Option)))
                {
                    result.AddError(
                        "replay --all without a filter replays every Pending dead letter: narrow it with "
                        + string.Join(", ", _narrowing.Select(filter => filter.Option.Name)) + ", or confirm with --yes");
                }
            });
            command.SetAction((result, ct) => WithSessionAsync(result, session => result.GetValue(_all)
                ? result.GetValue(_dryRun)
                    ? session.CountPendingAsync(Filters(result), ct)
                    : session.ReplayAllAsync(Filters(result), result.GetValue(_batchSize), result.GetValue(_rate), result.GetValue(_wait), ct)
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




        private IEnumerable<Option> AllOnly() =>
            new Option[] { _status, _yes, _dryRun, _wait, _batchSize, _rate }.Concat(_narrowing.Select(filter => filter.Option));

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

        private Task<int> WithSessionAsync(ParseResult result, Func<Session, Task<int>> act) =>
            _admin.WithSessionAsync(result, session => act(new Session(session)));
    }

    /// <summary>The dead-letter routes of the admin API, printed for people or, with --json, as the API's JSON.</summary>
    internal sealed class Session(AdminSession admin)
    {
        public async Task<int> ListAsync(Dictionary<string, string> filters, int? page, int? pageSize, CancellationToken cancellationToken)
        {
            var query = new Dictionary<string, string>(filters, StringComparer.Ordinal);
            AddQuery(query, "page", page?.ToString(CultureInfo.InvariantCulture));
            AddQuery(query, "pageSize", pageSize?.ToString(CultureInfo.InvariantCulture));
            var (ok, body) = await admin.SendAsync(HttpMethod.Get, "admin/dead-letters" + QueryString(query), null, cancellationToken);
            if (!ok || admin.Json)
            {
                return ok ? 0 : 1;
            }

            var rows = body!["items"]!.AsArray().Select(item => new[]
            {
                Text(item, "id"), Text(item, "status"), Text(item, "messageType"), Text(item, "erpKey"), Text(item, "failureCount"),
                Time(item, "lastFailedAt"), Shorten(Text(item, "exceptionType").Split('.')[^1] + ": " + Text(item, "exceptionMessage"), 60),
            }).ToList();
            await admin.WriteTableAsync(["ID", "STATUS", "TYPE", "KEY", "FAILS", "LAST FAILED", "REASON"], rows);
            await admin.Output.WriteLineAsync($"page {Text(body, "page")} · {rows.Count} of {Text(body, "total")}");
            return 0;
        }

        public async Task<int> GroupsAsync(Dictionary<string, string> filters, CancellationToken cancellationToken)
        {
            var (ok, body) = await admin.SendAsync(HttpMethod.Get, "admin/dead-letters/groups" + QueryString(filters), null, cancellationToken);
            if (!ok || admin.Json)
            {
                return ok ? 0 : 1;
            }

            var rows = body!.AsArray().Select(group => new[]
            {
                Text(group, "count"), Text(group, "failureGroup"), Text(group, "exceptionType"), Time(group, "firstSeen"), Time(group, "lastSeen"),
                Shorten(Text(group, "normalizedMessage"), 60),
            }).ToList();
            await admin.WriteTableAsync(["COUNT", "GROUP", "EXCEPTION", "FIRST SEEN", "LAST SEEN", "MESSAGE"], rows);
            return 0;
        }

        public async Task<int> ShowAsync(string id, CancellationToken cancellationToken)
        {
            var (ok, letter) = await admin.SendAsync(HttpMethod.Get, $"admin/dead-letters/{Uri.EscapeDataString(id)}", null, cancellationToken);
            if (!ok || admin.Json)
            {
                return ok ? 0 : 1;
            }

            foreach (var field in new[] { "id", "status", "statusReason", "sourceQueue", "messageType", "messageId", "erpKey", "correlationId", "contentType", "attemptCount", "failureCount", "firstFailedAt", "lastFailedAt", "replayCount", "exceptionType", "exceptionMessage", "failureGroup" })
            {
                await admin.Output.WriteLineAsync($"{field,-17} {Text(letter, field)}");
            }

            await admin.Output.WriteLineAsync("headers:");
            foreach (var (name, value) in letter!["headers"]!.AsObject())
            {
                await admin.Output.WriteLineAsync($"  {name}: {value}");
            }

            await admin.Output.WriteLineAsync($"body ({Text(letter, "bodyEncoding")}):");
            await admin.Output.WriteLineAsync(Text(letter, "body"));
            await admin.Output.WriteLineAsync("audit:");
            var rows = letter["audit"]!.AsArray().Select(entry => new[] { Time(entry, "at"), Text(entry, "actor"), Text(entry, "action"), Text(entry, "outcome"), Text(entry, "detail") }).ToList();
            await admin.WriteTableAsync(["AT", "WHO", "ACTION", "OUTCOME", "DETAIL"], rows);
            return 0;
        }

        /// <summary><c>replay --all --dry-run</c>: how many Pending dead letters a job with these filters would replay now.</summary>
        public async Task<int> CountPendingAsync(Dictionary<string, string> filters, CancellationToken cancellationToken)
        {
            var query = new Dictionary<string, string>(filters, StringComparer.Ordinal) { ["status"] = "Pending", ["pageSize"] = "1" };
            var (ok, body) = await admin.SendAsync(HttpMethod.Get, "admin/dead-letters" + QueryString(query), null, cancellationToken, quiet: true);
            if (!ok)
            {
                return 1;
            }

            var total = Text(body, "total");
            await admin.Output.WriteLineAsync(admin.Json
                ? new JsonObject { ["dryRun"] = true, ["matching"] = body?["total"]?.DeepClone(), ["filter"] = new JsonObject(filters.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))) }.ToJsonString(AdminSession.Indented)
                : $"dry run: {total} Pending dead letter(s) match; nothing was replayed (run again without --dry-run to replay them)");
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

            var (ok, job) = await admin.SendAsync(HttpMethod.Post, "admin/dead-letters/replay", request, cancellationToken, quiet: !admin.Json || wait);
            if (!ok)
            {
                return 1;
            }

            while (wait && Text(job, "state") == "Running")
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                (ok, job) = await admin.SendAsync(HttpMethod.Get, $"admin/dead-letters/replay-jobs/{Text(job, "id")}", null, cancellationToken, quiet: true);
                if (!ok)
                {
                    return 1;
                }
            }

            if (admin.Json)
            {
                if (wait)
                {
                    await admin.Output.WriteLineAsync(job!.ToJsonString(AdminSession.Indented));
                }
            }
            else
            {
                await admin.Output.WriteLineAsync($"replay job {Text(job, "id")}: {Text(job, "state")}, {Text(job, "replayed")} of {Text(job, "total")} replayed, {Text(job, "skipped")} skipped, {Text(job, "failed")} failed");
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
                await admin.Error.WriteLineAsync($"cannot read {file}: {ex.Message}");
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
            var (ok, result) = await admin.SendAsync(HttpMethod.Post, $"admin/dead-letters/{Uri.EscapeDataString(id)}/{action}", body, cancellationToken, quiet: !admin.Json);
            if (ok && !admin.Json)
            {
                var extra = result?["newMessageId"] is { } newId ? $" (new message {newId})" : "";
                await admin.Output.WriteLineAsync($"{id}: {action} done, now {Text(result, "status")}{extra}");
            }

            return ok ? 0 : 1;
        }
    }
}
