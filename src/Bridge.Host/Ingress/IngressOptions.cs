using Microsoft.Extensions.Options;

namespace Bridge.Host.Ingress;

/// <summary>
/// One key of an ERP allowed through the HTTP door: the ERP's name (recorded with each message it sends; its statuses are
/// shown to any key of that name, so a key is rotated by adding the new one under the same name, then removing the old)
/// and the key.
/// </summary>
public sealed class IngressClient
{
    public string Name { get; set; } = "";

    /// <summary>The secret presented as <c>Authorization: Bearer …</c>. Never logged or shown.</summary>
    public string Key { get; set; } = "";

    public override string ToString() => $"IngressClient({Name})";
}

/// <summary>The HTTP door's clients (<c>Bridge:Ingress:Clients</c>). With none configured every request to the door is refused.</summary>
public sealed class IngressOptions
{
    public const string Section = "Bridge:Ingress";

    public const int MinKeyLength = 16;

    /// <summary>The longest name, as the submissions table holds it.</summary>
    public const int MaxNameLength = 100;

    public List<IngressClient> Clients { get; set; } = [];

    /// <summary>The largest request body accepted, in bytes (a closing document carries its file).</summary>
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>RabbitMQ 4 refuses larger messages by default (<c>max_message_size</c>), and Kestrel's own limit is 30 MB.</summary>
    public const long MaxBodyBytesLimit = 16 * 1024 * 1024;
}

/// <summary>Fails start-up on a malformed client entry, naming it by index and name, never echoing a key.</summary>
internal sealed class IngressOptionsValidator : IValidateOptions<IngressOptions>
{
    public ValidateOptionsResult Validate(string? name, IngressOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.Clients.Count; i++)
        {
            var client = options.Clients[i];
            var where = $"{IngressOptions.Section}:Clients:{i}";
            if (string.IsNullOrWhiteSpace(client.Name) || client.Name.Length > IngressOptions.MaxNameLength)
            {
                failures.Add($"{where}:Name is required, at most {IngressOptions.MaxNameLength} characters (it is recorded with every message the client sends).");
            }

            if (string.IsNullOrEmpty(client.Key) || client.Key.Length < IngressOptions.MinKeyLength)
            {
                failures.Add($"{where}:Key must be at least {IngressOptions.MinKeyLength} characters.");
            }
        }

        if (options.Clients.Where(client => !string.IsNullOrEmpty(client.Key)).GroupBy(client => client.Key, StringComparer.Ordinal).Any(group => group.Count() > 1))
        {
            failures.Add($"{IngressOptions.Section}:Clients: two entries have the same key.");
        }


        if (options.MaxBodyBytes is < 1024 or > IngressOptions.MaxBodyBytesLimit)
        {
            failures.Add($"{IngressOptions.Section}:MaxBodyBytes must be between 1024 and {IngressOptions.MaxBodyBytesLimit} (16 MiB, RabbitMQ 4's default largest message).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
