using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Bridge.Host.DeadLetters.Store;

/// <summary>
/// Groups failures by cause: the exception type plus its message with the parts that differ from message to message
/// (GUIDs, quoted values, numbers) masked, so a hundred "document 'x' is busy" failures make one group, not a hundred.
/// </summary>
public static partial class FailureCause
{
    public const int MaxNormalizedLength = 1000;

    public static string Normalize(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var normalized = Guids().Replace(message, "{id}");
        normalized = Quoted().Replace(normalized, match => $"{match.Value[0]}…{match.Value[^1]}");
        normalized = Numbers().Replace(normalized, "{n}");
        normalized = Whitespace().Replace(normalized, " ").Trim();
        return StorableText.Clip(normalized, MaxNormalizedLength);
    }

    /// <summary>A stable id of the cause, usable in URLs and filters.</summary>
    public static string Group(string exceptionType, string normalizedMessage)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(exceptionType + "\n" + normalizedMessage));
        return Convert.ToHexStringLower(hash)[..32];
    }

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")]
    private static partial Regex Guids();

    [GeneratedRegex(@"'[^'\r\n]*'|""[^""\r\n]*""")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\d+(\.\d+)?")]
    private static partial Regex Numbers();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
