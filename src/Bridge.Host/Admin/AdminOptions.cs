using Microsoft.Extensions.Options;

namespace Bridge.Host.Admin;

public enum AdminRole
{
    /// <summary>May list, group and show dead letters and watch replay jobs.</summary>
    ReadOnly,

    /// <summary>May also replay, edit and replay, discard and restore.</summary>
    Operator,
}

/// <summary>One operator token: who holds it (recorded in the audit trail) and what it may do.</summary>
public sealed class AdminToken
{
    public string Name { get; set; } = "";

    /// <summary>The secret presented as <c>Authorization: Bearer …</c>. Never logged or shown.</summary>
    public string Token { get; set; } = "";

    /// <summary><c>Operator</c>, or <c>ReadOnly</c> (also written <c>read-only</c>).</summary>
    public string Role { get; set; } = "";

    public override string ToString() => $"AdminToken({Name}, {Role})";
}

/// <summary>The admin API's operator tokens (<c>Bridge:Admin:Tokens</c>). With none configured every admin request is refused.</summary>
public sealed class AdminOptions
{
    public const string Section = "Bridge:Admin";

    public const int MinTokenLength = 16;

    public List<AdminToken> Tokens { get; set; } = [];

    public static bool TryParseRole(string? value, out AdminRole role)
    {
        var normalized = (value ?? "").Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).Trim();
        return Enum.TryParse(normalized, ignoreCase: true, out role) && Enum.IsDefined(role);
    }
}

/// <summary>Fails start-up on a malformed token entry, naming it by index and name, never echoing a token.</summary>
internal sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.Tokens.Count; i++)
        {
            var token = options.Tokens[i];
            var where = $"{AdminOptions.Section}:Tokens:{i}";
            if (string.IsNullOrWhiteSpace(token.Name))
            {
                failures.Add($"{where}:Name is required (it is recorded as the actor in the audit trail).");
            }

            if (string.IsNullOrEmpty(token.Token) || token.Token.Length < AdminOptions.MinTokenLength)
            {
                failures.Add($"{where}:Token must be at least {AdminOptions.MinTokenLength} characters.");
            }

            if (!AdminOptions.TryParseRole(token.Role, out _))
            {
                failures.Add($"{where}:Role must be Operator or ReadOnly.");
            }
        }

        if (options.Tokens.Where(token => !string.IsNullOrEmpty(token.Token)).GroupBy(token => token.Token, StringComparer.Ordinal).Any(group => group.Count() > 1))
        {
            failures.Add($"{AdminOptions.Section}:Tokens: two entries have the same token.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
