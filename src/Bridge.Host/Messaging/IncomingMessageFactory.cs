using MassTransit;

namespace Bridge.Host.Messaging;

public static class IncomingMessageFactory
{
    /// <summary>
    /// An explicit key in the body wins: publishers that cannot set the AMQP <c>message_id</c> put it there. Otherwise the
    /// AMQP <c>message_id</c> as the publisher wrote it (any string: MassTransit's own <c>MessageId</c> is a GUID and comes
    /// back empty for anything else), else MassTransit's message id.
    /// </summary>
    public static IncomingMessage From<T>(ConsumeContext<T> context, string? explicitIdempotencyKey)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);

        // Read once per delivery by MessageHandlingFilter, which carries the telemetry the handler records its outcome on.
        return context.TryGetPayload<MessageHandling>(out var handling) ? handling.Incoming : Identify(context, explicitIdempotencyKey);
    }

    /// <summary>The delivery's identity, read from the body's explicit key and the transport.</summary>
    public static IncomingMessage Identify<T>(ConsumeContext<T> context, string? explicitIdempotencyKey)
        where T : class
    {
        var amqp = context.TryGetPayload<RabbitMqBasicConsumeContext>(out var payload) ? payload : null;
        var key = NonEmpty(explicitIdempotencyKey)
            ?? NonEmpty(amqp?.Properties.MessageId)
            ?? context.MessageId?.ToString("D");

        var correlation = context.CorrelationId?.ToString("D")
            ?? NonEmpty(amqp?.Properties.CorrelationId)
            ?? key
            ?? NewId.NextGuid().ToString("D");

        return new IncomingMessage(key, correlation, typeof(T).Name, HeaderString(context, "traceparent"))
        {
            ReplayOf = Guid.TryParse(TransportHeader(context, amqp, ReplayHeaders.ReplayOf), out var letter) ? letter : null,
            ReplayCopy = Guid.TryParse(TransportHeader(context, amqp, ReplayHeaders.ReplayCopy), out var copy) ? copy.ToString("D") : null,
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>
    /// A header as the broker carried it, where a replay sets it: for a message in MassTransit's envelope the consume
    /// context's headers are the envelope's own, which a replay does not touch.
    /// </summary>
    private static string? TransportHeader<T>(ConsumeContext<T> context, RabbitMqBasicConsumeContext? amqp, string name)
        where T : class
    {
        if (amqp is not null)
        {
            return amqp.Properties.Headers is { } headers && headers.TryGetValue(name, out var value) ? HeaderValues.Text(value) : null;
        }

        return context.ReceiveContext.TransportHeaders.TryGetHeader(name, out var transport) ? HeaderValues.Text(transport) : null;
    }

    private static string? HeaderString<T>(ConsumeContext<T> context, string name)
        where T : class
        => context.Headers.TryGetHeader(name, out var value) ? HeaderValues.Text(value) : null;
}
