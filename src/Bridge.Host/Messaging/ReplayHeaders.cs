namespace Bridge.Host.Messaging;

/// <summary>The headers a dead letter's replay sets on the copy of the original it sends (read by the consumer and by the capture).</summary>
public static class ReplayHeaders
{
    /// <summary>The dead letter's id.</summary>
    public const string ReplayOf = "Bridge-Replay-Of";

    /// <summary>The copy's own id, counted on the letter by the replay's claim until a capture of the copy takes it back.</summary>
    public const string ReplayCopy = "Bridge-Replay-Copy";
}

/// <summary>A transport header's value as text, however the transport carried it (RabbitMQ hands strings over as bytes).</summary>
public static class HeaderValues
{
    public static string? Text(object? value) => value switch
    {
        null => null,
        byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
        IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
