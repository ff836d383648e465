using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json.Nodes;
using Bridge.Host.Effects;
using static Bridge.Host.Cli.CliParts;

namespace Bridge.Host.Cli;

/// <summary>
/// <c>bridge effects list | show | resolve</c>: the effect routes of the admin API from a terminal, like
/// <c>bridge dead-letters</c> (same <c>--url</c>/<c>BRIDGE_ADMIN_URL</c>, <c>--token</c>/<c>BRIDGE_ADMIN_TOKEN</c>,
/// <c>--json</c>). Exit codes: 0 done (and <c>--help</c>), 1 refused or failed (the API's problem is printed), 2 bad usage —
/// an unknown option or command, a missing or malformed value, a resolution without a note: nothing is sent then.
/// </summary>
public static class EffectCli
{
    /// <summary><c>bridge effects &lt;args&gt;</c>, as <see cref="BridgeCli"/> runs it.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        return BridgeCli.RunAsync(["effects", .. args], output, error, handler, cancellationToken);
    }

    internal sealed class Commands
    {
        private readonly AdminConnection _admin;
        private readonly TextWriter _output;

        private readonly Option<string> _state = new("--state")
        {
            Description = "Sending, AsyncTask, Applied, NotApplied or Unknown [default: the effects that need an operator — every Unknown one, and every open one older than --older-than]",
            HelpName = "state",
        };

        private readonly Option<string> _olderThan = new("--older-than")
        {
            Description = "Without --state: list open effects sent at least this long ago, e.g. 00:10:00 [default: the wait after which an operator may resolve one]",
            HelpName = "hh:mm:ss",
        };

        /// <summary>The filters that narrow a list, each with the query parameter the API reads it from.</summary>
        private readonly (Option<string> Option, string Parameter)[] _narrowing =
        [
            (new Option<string>("--scope") { Description = "The effect's scope, e.g. payment-statement-line:1", HelpName = "scope" }, "scope"),
            (new Option<string>("--key") { Description = "The effect's natural key, e.g. 002021|BS-7781 for a statement line", HelpName = "key" }, "key"),
            (new Option<string>("--group") { Description = "The effect's group (the payment number, the document key, …)", HelpName = "group" }, "group"),
            (new Option<string>("--owner") { Description = "The idempotency key of the message that sent it (a dead letter's message id)", HelpName = "idempotencyKey" }, "owner"),
        ];

        private readonly Option<int?> _page = Number<int>("--page", "Page number, from 1");
        private readonly Option<int?> _pageSize = Number<int>("--page-size", "Effects per page");

        private readonly Option<string> _as = new("--as")
        {
            Description = "applied (it happened in ActivePlatform: replaying its dead letter answers it without sending) or not-applied (it did not: replaying sends it again)",
            HelpName = "applied|not-applied",
            Required = true,
        };

        private readonly Option<string> _note = new("--note")
        {
            Description = "Who checked what in ActivePlatform, and why this resolution (kept in the effect's evidence and audit trail)",
            HelpName = "text",
            Required = true,
        };

        private readonly Option<string> _resourceId = new("--resource-id")
        {
            Description = "With --as applied: the ActivePlatform resource it made — a top-up's payment id, a correction's id, a closing document's id "
                + "(required for those), or a statement line's correction id (when it made one)",
            HelpName = "id",
        };

        private readonly Option<string> _attempt = new("--attempt")
        {
            Description = "The attempt you looked at (from 'show'): refused if the effect was sent again since",
            HelpName = "attempt",
        };

        public Commands(AdminConnection admin)
        {
            _admin = admin;
            _output = admin.Output;
            foreach (var option in new[] { _state, _olderThan, _as, _note, _resourceId, _attempt }.Concat(_narrowing.Select(f => f.Option)))
            {
                option.Validators.Add(NeedsAValue);
            }

            _state.Validators.Add(result =>
            {
                var value = result.GetValueOrDefault<string?>()?.Trim();
                if (!string.IsNullOrEmpty(value) && !value.StartsWith("--", StringComparison.Ordinal)
                    && (!Enum.TryParse<EffectState>(value, ignoreCase: true, out var state) || !Enum.IsDefined(state) || int.TryParse(value, out _)))
                {
                    result.AddError($"--state {value}: must be one of {string.Join(", ", Enum.GetNames<EffectState>())}");
                }
            });
            _olderThan.Validators.Add(result =>
            {
                var value = result.GetValueOrDefault<string?>()?.Trim();
                if (!string.IsNullOrEmpty(value) && !value.StartsWith("--", StringComparison.Ordinal)
                    && (!TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var duration) || duration < TimeSpan.Zero))
                {
                    result.AddError($"--older-than {value}: must be a duration such as 00:10:00 (hh:mm:ss)");
                }
            });
            _as.Validators.Add(result =>
            {
                var value = result.GetValueOrDefault<string?>();
                if (!string.IsNullOrWhiteSpace(value) && !value.StartsWith("--", StringComparison.Ordinal) && !EffectAdminApi.TryParseResolution(value, out _))
                {
                    result.AddError($"--as {value}: must be applied or not-applied");
                }
            });
            _note.Validators.Add(result =>
            {
                var value = result.GetValueOrDefault<string?>();
                if (!string.IsNullOrWhiteSpace(value) && !value.StartsWith("--", StringComparison.Ordinal))
                {
                    foreach (var problem in EffectOperations.ValidateInput(value, null))
                    {
                        result.AddError("--" + problem);
                    }
                }
            });

            Command = new Command(
                "effects",
                "List, inspect and resolve the effects on ActivePlatform whose outcome Bridge could not tell (Unknown), through a running Bridge's admin API. "
                + "Resolve one after checking ActivePlatform, then replay its dead letter. "
                + "Exit codes: 0 done, 1 refused or failed (the API's problem is printed), 2 bad usage (nothing is sent).")
            {
                List(), Show(), Resolve(),
            };
            admin.AddTo(Command);
        }

        /// <summary><c>effects</c> and its subcommands.</summary>
        public Command Command { get; }

        private Command List()
        {
            var command = new Command(
                "list",
                "Effects, oldest send first: by default every Unknown one and every open one (Sending, AsyncTask) older than --older-than; with --state, those in it.")
            {
                _state, _olderThan, _page, _pageSize,
            };
            foreach (var (option, _) in _narrowing)
            {
                command.Options.Add(option);
            }

            command.Validators.Add(result =>
            {
                if (result.GetValue(_state) is not null && result.GetResult(_olderThan) is { Implicit: false })
                {
                    result.AddError("--older-than applies only without --state (to the open effects listed by default)");
                }
            });
            command.SetAction((result, ct) => WithSessionAsync(result, session => ListAsync(session, result, ct)));
            return command;
        }

        private Command Show()
        {
            var id = Id();
            var command = new Command("show", "One effect: scope, key, group, owner, attempt, state, times, resource, evidence and audit trail.") { id };
            command.SetAction((result, ct) => WithSessionAsync(result, session => ShowAsync(session, result.GetRequiredValue(id), ct)));
            return command;
        }

        private Command Resolve()
        {
            var id = Id();
            var command = new Command(
                "resolve",
                "Record what you found in ActivePlatform for an Unknown effect (or an open one past its wait): --as applied (with --resource-id) "
                + "or --as not-applied, with a --note. Then replay its dead letter: applied answers the message without sending, not-applied sends it again.")
            {
                id, _as, _note, _resourceId, _attempt,
            };
            command.Validators.Add(result =>
            {
                if (result.GetResult(_resourceId) is { Implicit: false } && EffectAdminApi.TryParseResolution(result.GetValue(_as), out var resolution) && resolution == EffectState.NotApplied)
                {
                    result.AddError("--resource-id goes with --as applied: an effect that was not applied made nothing");
                }
            });
            command.SetAction((result, ct) => WithSessionAsync(result, session =>
            {
                EffectAdminApi.TryParseResolution(result.GetRequiredValue(_as), out var resolution);
                var body = new JsonObject { ["resolution"] = resolution.ToString(), ["note"] = result.GetRequiredValue(_note).Trim() };
                if (result.GetValue(_resourceId) is { } resource)
                {
                    body["resourceId"] = resource.Trim();
                }

                if (result.GetValue(_attempt) is { } attempt)
                {
                    body["attempt"] = attempt.Trim();
                }

                return ResolveAsync(session, result.GetRequiredValue(id), body, ct);
            }));
            return command;
        }

        private static Argument<string> Id()
        {
            var id = new Argument<string>("id") { Description = "The effect's id: the 64 hex characters 'list' shows" };
            id.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                {
                    if (token.Value.StartsWith('-'))
                    {
                        result.AddError($"Unrecognized option '{token.Value}'.");
                    }
                    else if (!EffectAdminApi.IsEffectId(token.Value))
                    {
                        result.AddError($"'{token.Value}' is not an effect id (64 hex characters, as 'bridge effects list' shows)");
                    }
                }
            });
            return id;
        }



        private async Task<int> ListAsync(AdminSession session, ParseResult result, CancellationToken cancellationToken)
        {
            var query = new Dictionary<string, string>(StringComparer.Ordinal);
            AdminSession.AddQuery(query, "state", result.GetValue(_state)?.Trim());
            AdminSession.AddQuery(query, "olderThan", result.GetValue(_olderThan)?.Trim());
            foreach (var (option, parameter) in _narrowing)
            {
                AdminSession.AddQuery(query, parameter, result.GetValue(option));
            }

            AdminSession.AddQuery(query, "page", result.GetValue(_page)?.ToString(CultureInfo.InvariantCulture));
            AdminSession.AddQuery(query, "pageSize", result.GetValue(_pageSize)?.ToString(CultureInfo.InvariantCulture));
            var (ok, body) = await session.SendAsync(HttpMethod.Get, "admin/effects" + AdminSession.QueryString(query), null, cancellationToken);
            if (!ok || result.GetValue(_admin.Json))
            {
                return ok ? 0 : 1;
            }

            var rows = body!["items"]!.AsArray().Select(item => new[]
            {
                Text(item, "id"), Text(item, "state"), Text(item, "scope"), Text(item, "key"), Text(item, "group"), Text(item, "owner"),
                AdminSession.Time(item, "sentAt"), Age(item), Text(item, "resourceId"), AdminSession.Shorten(Evidence(item), 60),
            }).ToList();
            await session.WriteTableAsync(["ID", "STATE", "SCOPE", "KEY", "GROUP", "OWNER", "SENT AT", "AGE", "RESOURCE", "EVIDENCE"], rows);
            var which = body["state"] is null
                ? $"Unknown, and open ones sent {Text(body, "openOlderThanSeconds")} s ago or more"
                : Text(body, "state");
            await _output.WriteLineAsync($"page {Text(body, "page")} · {rows.Count} of {Text(body, "total")} ({which})");
            return 0;
        }

        private async Task<int> ShowAsync(AdminSession session, string id, CancellationToken cancellationToken)
        {
            var (ok, effect) = await session.SendAsync(HttpMethod.Get, $"admin/effects/{Uri.EscapeDataString(id)}", null, cancellationToken);
            if (!ok || effect is null || JsonWanted)
            {
                return ok ? 0 : 1;
            }

            await WriteEffectAsync(session, effect);
            return 0;
        }

        private async Task<int> ResolveAsync(AdminSession session, string id, JsonObject body, CancellationToken cancellationToken)
        {
            var (ok, result) = await session.SendAsync(HttpMethod.Post, $"admin/effects/{Uri.EscapeDataString(id)}/resolve", body, cancellationToken, quiet: !JsonWanted);
            if (ok && !JsonWanted)
            {
                await _output.WriteLineAsync($"{id}: resolved as {Text(result, "state")} — {Text(result, "detail")}");
                await _output.WriteLineAsync(Text(result, "state") == nameof(EffectState.Applied)
                    ? "Now replay its dead letter: the message is answered as applied, without sending anything to ActivePlatform."
                    : "Now replay its dead letter: the effect is sent to ActivePlatform again.");
            }

            return ok ? 0 : 1;
        }

        private bool JsonWanted { get; set; }

        private async Task WriteEffectAsync(AdminSession session, JsonNode effect)
        {
            foreach (var field in new[] { "id", "kind", "scope", "key", "group", "owner", "attempt", "state", "sentAt", "updatedAt", "secondsSinceSent", "asyncTaskId", "resourceId", "resolvable", "notResolvableBecause" })
            {
                await _output.WriteLineAsync($"{field,-20} {Text(effect, field)}");
            }

            await _output.WriteLineAsync("evidence:");
            await _output.WriteLineAsync(effect["evidence"]?.ToJsonString(AdminSession.Indented) ?? "(none)");
            await _output.WriteLineAsync("audit:");
            var rows = (effect["audit"]?.AsArray() ?? []).Select(entry => new[]
            {
                AdminSession.Time(entry, "at"), Text(entry, "actor"), Text(entry, "action"), Text(entry, "outcome"), Text(entry, "detail"),
            }).ToList();
            await session.WriteTableAsync(["AT", "WHO", "ACTION", "OUTCOME", "DETAIL"], rows);
        }

        private static string Text(JsonNode? node, string name) => AdminSession.Text(node, name);

        private static string Age(JsonNode? node) =>
            double.TryParse(Text(node, "secondsSinceSent"), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(Math.Floor(seconds)).ToString(seconds >= 86400 ? @"d\.hh\:mm\:ss" : @"hh\:mm\:ss", CultureInfo.InvariantCulture)
                : "";

        /// <summary>The evidence's reason, or what an operator noted, or the evidence's JSON.</summary>
        private static string Evidence(JsonNode? node) => node?["evidence"] switch
        {
            null => "",
            JsonObject evidence when evidence["note"] is not null => $"{Text(evidence, "resolvedBy")}: {Text(evidence, "note")}",
            JsonObject evidence when evidence["reason"] is not null => Text(evidence, "reason"),
            JsonObject evidence when evidence["how"] is not null => Text(evidence, "how"),
            var other => other.ToJsonString(),
        };

        private Task<int> WithSessionAsync(ParseResult result, Func<AdminSession, Task<int>> act)
        {
            JsonWanted = result.GetValue(_admin.Json);
            return _admin.WithSessionAsync(result, act);
        }
    }
}
