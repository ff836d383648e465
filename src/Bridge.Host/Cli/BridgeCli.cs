using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Bridge.Host.Hosting;
using Bridge.Host.Storage;
using Microsoft.Extensions.Configuration;

namespace Bridge.Host.Cli;

/// <summary>
/// The <c>bridge</c> command line: <c>serve</c> (the default), <c>migrate</c>, <c>dead-letters …</c> and
/// <c>effects …</c>, each with <c>--help</c>, and <c>--version</c>. Exit codes, the same for every command:
/// <list type="bullet">
/// <item>0 — done (and <c>--help</c>, <c>--version</c>);</item>
/// <item>1 — refused or failed (an admin API problem, a migration that failed);</item>
/// <item>2 — bad usage or settings: an unknown command or option, a missing or malformed value, an invalid setting;
/// nothing was done;</item>
/// <item>3 — the database could not be reached within <c>Bridge:Storage:StartupWait</c>, or its schema is behind and
/// <c>Bridge:Storage:MigrateOnStart</c> is off (run <c>bridge migrate</c>).</item>
/// </list>
/// <c>serve</c> and <c>migrate</c> pass what they do not know on to .NET configuration, as a .NET host does
/// (<c>--Bridge:Storage:Provider=Sqlite</c>, <c>--urls http://+:8080</c>). The scripted quick start is a program of its own
/// (<c>src/Bridge.Demo</c>), so that this one neither references nor ships the ActivePlatform sandbox.
/// </summary>
public static class BridgeCli
{
    public const int Done = 0;
    public const int Failed = 1;
    public const int BadUsage = 2;
    public const int DatabaseNotReady = 3;

    /// <summary>Runs Bridge's service until it stops; given the configuration arguments. Program.cs passes the real one.</summary>
    public delegate Task<int> Serve(string[] configurationArgs, CancellationToken cancellationToken);

    public static async Task<int> RunAsync(
        string[] args,
        TextWriter output,
        TextWriter error,
        HttpMessageHandler? handler = null,
        CancellationToken cancellationToken = default,
        Serve? serve = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var root = Build(output, error, handler, serve);
        // No response files: an argument starting with '@' is an ERP key or a text to search for, never a file to expand.
        var parsed = root.Parse(ServeByDefault(args, root), new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is not HelpAction && parsed.Errors.Count > 0)
        {
            await CliParts.ReportAsync(parsed, error);
            return BadUsage;
        }

        return await parsed.InvokeAsync(
            new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null },
            cancellationToken);
    }

    /// <summary>
    /// No command, or configuration switches only (<c>bridge --urls http://+:8080</c>), means <c>serve</c>, as Bridge has
    /// always started; <c>bridge --help</c> and <c>bridge --version</c> stay the root's.
    /// </summary>
    private static string[] ServeByDefault(string[] args, Command root)
    {
        if (args.Length == 0)
        {
            return ["serve"];
        }

        var first = args[0];
        var rootOption = root.Options.Any(option => option.Name == first || option.Aliases.Contains(first));
        return first.StartsWith('-') && !rootOption ? ["serve", .. args] : args;
    }

    private static Command Build(TextWriter output, TextWriter error, HttpMessageHandler? handler, Serve? serve)
    {
        var admin = new AdminConnection(output, error, handler);
        // Named 'bridge' whatever the executable is called (the container runs 'dotnet bridge.dll').
        var bridge = new Command(
            "bridge",
            "Bridge: ERP finance messages from RabbitMQ to ActivePlatform, each applied exactly once. "
            + "Exit codes: 0 done, 1 refused or failed, 2 bad usage or settings (nothing done), "
            + "3 database unreachable or its schema behind (run 'bridge migrate').")
        {
            new HelpOption { Recursive = true },
            new VersionOption(),
            ServeCommand(serve),
            MigrateCommand(output, error),
            new DeadLetterCli.Commands(admin).Command,
            new EffectCli.Commands(admin).Command,
        };
        return bridge;
    }

    private static Command ServeCommand(Serve? serve)
    {
        var command = new Command(
            "serve",
            "Run Bridge (the default command): consume the ERP queues, call ActivePlatform, publish result events, serve /health and /admin. "
            + "Settings come from appsettings.json, environment variables (Bridge__Storage__Provider) and switches such as --Bridge:Storage:Provider=Sqlite.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction((result, ct) => serve is null
            ? Task.FromResult(Failed)
            : serve([.. result.UnmatchedTokens], ct));
        return command;
    }

    private static Command MigrateCommand(TextWriter output, TextWriter error)
    {
        var command = new Command(
            "migrate",
            "Bring the database's schema up to date and exit (for deployments that run migrations as their own step, "
            + "with Bridge:Storage:MigrateOnStart=false for the service's least-privilege login). Safe to run while instances serve.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (result, ct) =>
        {
            try
            {
                var applied = await StorageMigrations.MigrateAsync([.. result.UnmatchedTokens], ct);
                await output.WriteLineAsync(applied.Count == 0
                    ? "the schema is up to date; nothing to apply"
                    : $"applied {applied.Count} migration(s): {string.Join(", ", applied)}");
                return Done;
            }
            catch (Exception ex) when (StartupFailure.TryDescribe(ex, out var problems))
            {
                await error.WriteLineAsync("bridge migrate cannot run; fix these settings:");
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync("  - " + problem);
                }

                return BadUsage;
            }
            catch (DatabaseUnreachableException ex)
            {
                await error.WriteLineAsync("bridge migrate: " + ex.Message);
                return DatabaseNotReady;
            }
            catch (System.Data.Common.DbException ex)
            {
                await error.WriteLineAsync("bridge migrate: a migration failed, nothing after it was applied: " + ex.Message);
                return Failed;
            }
        });
        return command;
    }
}
