using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Bridge.Host.Cli;

/// <summary>Validators and usage text every <c>bridge</c> command shares.</summary>
internal static class CliParts
{
    /// <summary>The command's path from the root, e.g. <c>bridge dead-letters replay</c>.</summary>
    public static string PathOf(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is not null; symbol = symbol.Parents.FirstOrDefault())
        {
            names.Insert(0, symbol.Name);
        }

        return string.Join(' ', names);
    }

    /// <summary>One line: the command, its arguments and its required options, e.g. <c>bridge dead-letters discard &lt;id&gt;... --reason &lt;text&gt; [options]</c>.</summary>
    public static string Synopsis(Command command)
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

    /// <summary>True when the option was written on the command line (not just defaulted).</summary>
    public static bool Given(SymbolResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>A string option needs a value, and not the next option's name (<c>--key --json</c>).</summary>
    public static void NeedsAValue(OptionResult result)
    {
        var value = result.GetValueOrDefault<string?>();
        if (string.IsNullOrWhiteSpace(value) || value.StartsWith("--", StringComparison.Ordinal))
        {
            result.AddError($"{result.Option.Name} needs a value" + (string.IsNullOrWhiteSpace(value) ? "" : $", not the option '{value}'"));
        }
    }

    /// <summary>What a command takes for an id but looks like an option is a mistyped option, e.g. <c>--tpye</c>.</summary>
    public static void NotAnOption(ArgumentResult result)
    {
        foreach (var token in result.Tokens.Where(token => token.Value.StartsWith('-')))
        {
            result.AddError($"Unrecognized option '{token.Value}'.");
        }
    }

    /// <summary>A number option whose malformed value is named in the error (System.CommandLine's own message is vaguer).</summary>
    public static Option<T?> Number<T>(string name, string description)
        where T : struct, INumber<T> => new(name)
        {
            Description = description,
            HelpName = "n",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                var styles = typeof(T) == typeof(int) || typeof(T) == typeof(long) ? NumberStyles.Integer : NumberStyles.Float;
                if (T.TryParse(text, styles, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value))
                {
                    return value;
                }

                result.AddError($"{name} needs a {(styles == NumberStyles.Integer ? "whole number" : "number")}, not '{text}'");
                return null;
            },
        };

    /// <summary>Prints every parse error and the command's synopsis; the caller exits 2 (bad usage, nothing done).</summary>
    public static async Task ReportAsync(ParseResult parsed, TextWriter error)
    {
        foreach (var problem in parsed.Errors.Select(e => e.Message).Distinct(StringComparer.Ordinal))
        {
            await error.WriteLineAsync(problem);
        }

        var command = parsed.CommandResult.Command;
        await error.WriteLineAsync("usage: " + Synopsis(command));
        await error.WriteLineAsync($"run '{PathOf(command)} --help' for every option");
    }
}
