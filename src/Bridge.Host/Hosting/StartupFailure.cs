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
                    found.Add($"{match.Groups["setting"].Value} cannot be read as {Describe(match.Groups["type"].Value)}");
                    break;
                default:
                    problems = [];
                    return false;
            }
        }

        problems = found.Distinct().ToList();
        return problems.Count > 0;
    }

    private static string Describe(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" or "System.Decimal" => "a number",
        "System.TimeSpan" => "a time span (e.g. 00:00:15)",
        "System.Boolean" => "true or false",
        "System.Uri" => "a URI",
        _ => "a " + type.Split('.')[^1],
    };

    // ConfigurationBinder's message: Failed to convert configuration value '<value>' at '<setting>' to type '<type>'.
    [GeneratedRegex(@"^Failed to convert configuration value '.*' at '(?<setting>[^']+)' to type '(?<type>[^']+)'\.$", RegexOptions.Singleline)]
    private static partial Regex UnreadableSetting();
}
