using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Hosting;

public static partial class StartupFailure
{
    /// <summary>
    /// The failed option validations inside <paramref name="exception"/> (alone or aggregated), if that is what it is — and a
    /// setting the configuration binder could not convert to its type, named without its value (it may hold a password).
    /// </summary>
    public static bool TryDescribe(Exception exception, out IReadOnlyList<string> problems)
    {
        var found = new List<string>();
        var exceptions = exception is AggregateException aggregate ? aggregate.InnerExceptions : [exception];
        foreach (var single in exceptions)
        {
            switch (single)
            {
                case OptionsValidationException validation:
                    found.AddRange(validation.Failures);
                    break;
                case InvalidOperationException when UnreadableSetting().Match(single.Message) is { Success: true } match:
                    found.Add($"{match.Groups["setting"].Value} cannot be read as a {match.Groups["type"].Value.Split('.')[^1]}");
                    break;
                default:
                    problems = [];
                    return false;
            }
        }

        problems = found.Distinct().ToList();
        return problems.Count > 0;
    }

    // ConfigurationBinder's message: Failed to convert configuration value '<value>' at '<setting>' to type '<type>'.
    [GeneratedRegex(@"^Failed to convert configuration value '.*' at '(?<setting>[^']+)' to type '(?<type>[^']+)'\.$", RegexOptions.Singleline)]
    private static partial Regex UnreadableSetting();
}
