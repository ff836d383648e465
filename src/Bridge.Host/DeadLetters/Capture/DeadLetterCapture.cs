using System.Globalization;
using System.Text;
using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Messaging;
using Bridge.Host.Outbox;
using Bridge.Host.Storage;
using MassTransit;

namespace Bridge.Host.DeadLetters.Capture;

/// <summary>
/// Turns a delivery that failed for good (retries exhausted, or a body that cannot be read) into a stored dead letter and
/// its <see cref="ErpMessageDeadLettered"/> event, in one transaction. The broker acknowledges the delivery only after this
/// returns, so a crash in between leaves the message on its queue; its redelivery then lands on the same dead letter.
/// </summary>
public sealed partial class DeadLetterCapture(
    IBridgeDatabase database,
    IDeadLetterStore store,
    ResultEvents resultEvents,
    OutboxSignal outboxSignal,
    DeadLetterMetrics metrics,
    TimeProvider clock,
    ILogger<DeadLetterCapture> logger)
{
    /// <summary>AMQP properties are kept beside the application headers under this prefix, so replay can set them again.</summary>
    public const string PropertyPrefix = "amqp:";

    /// <summary>
    /// The W3C <c>traceparent</c> of the failed handling (the span active when it was captured), kept with the dead
    /// letter's headers so that a replay is linked to the original trace.
    /// </summary>
    public const string TraceParentHeader = "Bridge-Trace-Parent";

    /// <summary>Stores the failed delivery; false (after logging why) when it could not be stored.</summary>
    public Task<bool> TryCaptureAsync(ExceptionReceiveContext context, string messageType)
    {
        ArgumentNullException.ThrowIfNull(context);
        return TryCaptureAsync(context, () => Describe(context, messageType, clock.GetUtcNow()));
    }

    /// <summary>
    /// Stores a delivery no consumer of the queue took (MassTransit's "skipped" message: an envelope whose <c>messageType</c>
    /// names only types the queue's consumer does not handle); false (after logging why) when it could not be stored.
    /// </summary>
    public Task<bool> TryCaptureSkippedAsync(ReceiveContext context, string messageType)
    {
        ArgumentNullException.ThrowIfNull(context);
        var queue = InputQueues.NameOf(context.InputAddress);
        var named = EnvelopeMessageTypes(context.Body.GetBytes()) is { Count: > 0 } types ? string.Join(", ", types) : "no message type Bridge can read";
        var skipped = new UnhandledMessageTypeException(
            $"Queue {queue} takes {messageType} only, and this message names {named}: no consumer took it. Send it to the queue of its type, or edit and replay it as a {messageType}.");
        return TryCaptureAsync(context, () => Describe(context, skipped, 1, messageType, clock.GetUtcNow()));
    }

    /// <summary>The <c>messageType</c> URNs of a MassTransit envelope, or none when the body is not one.</summary>
    internal static IReadOnlyList<string> EnvelopeMessageTypes(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("messageType", out var types) && types.ValueKind == JsonValueKind.Array
                ? [.. types.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => StorableText.Clip(t.GetString()!, 200))]
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private async Task<bool> TryCaptureAsync(ReceiveContext context, Func<NewDeadLetter> describe)
    {
        var queue = InputQueues.NameOf(context.InputAddress);
        try
        {
            await CaptureAsync(describe(), context.CancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // Shutting down: leave the delivery unacknowledged, so it is redelivered rather than moved anywhere.
            throw;
        }
        catch (Exception ex)
        {
            LogCaptureFailed(logger, queue, context.GetMessageId()?.ToString("D"), ex);
            metrics.FellBackToErrorQueue(queue);
            return false;
        }
    }

    public Task<DeadLetterCaptured> CaptureAsync(NewDeadLetter letter, CancellationToken cancellationToken) =>
        CaptureAsync(letter, alsoAudit: null, cancellationToken);

    /// <summary>Stores <paramref name="letter"/>; <paramref name="alsoAudit"/>, when given, is recorded in the same transaction.</summary>
    public async Task<DeadLetterCaptured> CaptureAsync(NewDeadLetter letter, DeadLetterAction? alsoAudit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(letter);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var captured = await WriteAsync(transaction, letter, alsoAudit, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outboxSignal.Notify();
        metrics.Captured(letter.SourceQueue, letter.MessageType);
        LogCaptured(logger, letter.MessageType, letter.SourceQueue, letter.MessageId, captured.Id, captured.FailureCount, letter.ExceptionType);
        return captured;
    }

    /// <summary>
    /// Whether the store can take a dead letter right now: one like any other (dead letter, audit entry, outbox event) is
    /// written and rolled back. Tells a database that is unavailable from one that refuses a particular message.
    /// </summary>
    public async Task<bool> CanStoreAsync(string sourceQueue, string messageType, CancellationToken cancellationToken)
    {
        var probe = new NewDeadLetter(
            NewId.NextGuid(), sourceQueue, messageType, "bridge-probe-" + NewId.NextGuid().ToString("N"), null, null, "application/json",
            DeadLetterBody.FromBytes("{}"u8), new Dictionary<string, string?>(StringComparer.Ordinal), "Bridge.StoreProbe", "probe", null, 1, clock.GetUtcNow());
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await WriteAsync(transaction, probe, null, cancellationToken);
            await transaction.RollbackAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogProbeFailed(logger, sourceQueue, ex);
            return false;
        }
    }

    private async Task<DeadLetterCaptured> WriteAsync(System.Data.Common.DbTransaction transaction, NewDeadLetter letter, DeadLetterAction? alsoAudit, CancellationToken cancellationToken)
    {
        var idempotencyKey = IdempotencyKeyOf(letter.MessageId, letter.Body, letter.Headers);

        // The letter holds the key: a later delivery of it (the ack of this one lost, the ERP sending it again) is held here.
        var captured = await store.CaptureAsync(transaction, letter with { IdempotencyKey = letter.IdempotencyKey ?? idempotencyKey }, cancellationToken);
        if (alsoAudit is not null)
        {
            await store.AuditAsync(transaction, captured.Id, alsoAudit, cancellationToken);
        }

        var correlationId = letter.CorrelationId ?? idempotencyKey ?? captured.Id.ToString("D");
        var resultEvent = new ErpMessageDeadLettered
        {
            Key = letter.ErpKey ?? "",
            MessageId = idempotencyKey ?? "",
            CorrelationId = correlationId,
            OccurredAt = clock.GetUtcNow(),
            DeadLetterId = captured.Id,
            MessageType = letter.MessageType,
            Queue = letter.SourceQueue,
            ExceptionType = letter.ExceptionType,
            Reason = StorableText.Clip(letter.ExceptionMessage, 1000),
            FailureCount = captured.FailureCount,
        };
        var incoming = new IncomingMessage(idempotencyKey, correlationId, letter.MessageType, letter.Headers.GetValueOrDefault("traceparent"));
        await resultEvents.EnqueueAsync(transaction, resultEvent, incoming, cancellationToken);
        return captured;
    }

    /// <summary>
    /// The key the consumer records the message under: the body's <c>idempotencyKey</c>, else the message id — trimmed as the
    /// consumer trims them (IncomingMessageFactory), and MassTransit's envelope id, which the consumer reads as a GUID, in the
    /// GUID's own form. The dead letter's event answers it, and the letter holds it.
    /// </summary>
    public static string? IdempotencyKeyOf(DeadLetter letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        return IdempotencyKeyOf(letter.Headers.GetValueOrDefault(PropertyPrefix + "message_id") ?? letter.Summary.MessageId, letter.Body, letter.Headers);
    }

    /// <inheritdoc cref="IdempotencyKeyOf(DeadLetter)"/>
    public static string? IdempotencyKeyOf(string? messageId, DeadLetterBody body, IReadOnlyDictionary<string, string?> headers)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(headers);
        var explicitKey = ReadBody(body).IdempotencyKey;
        var key = explicitKey ?? NonEmpty(messageId)?.Trim();
        return explicitKey is null && !headers.ContainsKey(PropertyPrefix + "message_id") && Guid.TryParse(key, out var envelopeId)
            ? envelopeId.ToString("D")
            : key;
    }

    /// <summary>Everything a dead letter keeps about the delivery, read from the transport and, where it parses, the body.</summary>
    public static NewDeadLetter Describe(ExceptionReceiveContext context, string messageType, DateTimeOffset failedAt)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Describe(context, context.Exception, AttemptCount(context), messageType, failedAt);
    }

    /// <summary>Everything a dead letter keeps about a delivery that ended in <paramref name="failure"/>.</summary>
    public static NewDeadLetter Describe(ReceiveContext context, Exception failure, int attemptCount, string messageType, DateTimeOffset failedAt)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(failure);
        var body = DeadLetterBody.FromBytes(context.Body.GetBytes());
        var headers = new Dictionary<string, string?>(StringComparer.Ordinal);
        string? messageId;
        string? correlationId;
        string? contentType;
        if (context.TryGetPayload<RabbitMqBasicConsumeContext>(out var amqp))
        {
            (messageId, correlationId, contentType) = ReadAmqp(amqp.Properties, headers);
        }
        else
        {
            foreach (var (name, value) in context.TransportHeaders.GetAll())
            {
                headers[name] = HeaderValues.Text(value);
            }

            messageId = context.GetMessageId()?.ToString("D");
            correlationId = context.GetCorrelationId()?.ToString("D");
            contentType = context.ContentType?.MediaType;
        }

        if (Hosting.BridgeTelemetry.TraceParentOf(System.Diagnostics.Activity.Current) is { } traceParent)
        {
            headers[TraceParentHeader] = traceParent;
        }

        var identity = ReadBody(body);
        messageId ??= identity.EnvelopeMessageId;
        correlationId ??= identity.EnvelopeCorrelationId;

        var exception = Cause(failure);
        return new NewDeadLetter(
            NewId.NextGuid(),
            InputQueues.NameOf(context.InputAddress),
            messageType,
            messageId,
            identity.Key,
            correlationId,
            contentType,
            body,
            headers,
            exception.GetType().FullName ?? exception.GetType().Name,
            exception.Message,
            failure.ToString(),
            attemptCount,
            failedAt);
    }

    /// <summary>
    /// Copies the AMQP properties replay needs (under <see cref="PropertyPrefix"/>) and the application headers into
    /// <paramref name="headers"/>; returns the message id, correlation id and content type as the publisher wrote them.
    /// </summary>
    internal static (string? MessageId, string? CorrelationId, string? ContentType) ReadAmqp(RabbitMQ.Client.IReadOnlyBasicProperties properties, Dictionary<string, string?> headers)
    {
        var messageId = NonEmpty(properties.MessageId);
        var correlationId = NonEmpty(properties.CorrelationId);
        var contentType = NonEmpty(properties.ContentType);
        AddProperty(headers, "message_id", messageId);
        AddProperty(headers, "correlation_id", correlationId);
        AddProperty(headers, "content_type", contentType);
        AddProperty(headers, "content_encoding", NonEmpty(properties.ContentEncoding));
        AddProperty(headers, "type", NonEmpty(properties.Type));
        AddProperty(headers, "app_id", NonEmpty(properties.AppId));
        if (properties.IsHeadersPresent() && properties.Headers is { } table)
        {
            foreach (var (name, value) in table)
            {
                headers[name] = HeaderValues.Text(value);
            }
        }

        return (messageId, correlationId, contentType);
    }

    /// <summary>The tries counted by <see cref="DeliveryAttempts"/>; else MassTransit's retry count plus the first try.</summary>
    private static int AttemptCount(ExceptionReceiveContext context)
    {
        if (context.TryGetPayload<DeliveryAttempts>(out var attempts) && attempts.Count > 0)
        {
            return attempts.Count;
        }

        var retries = 0;
        if (context.TryGetPayload<RetryContext>(out var retry))
        {
            retries = retry.RetryCount;
        }
        else if (context.ExceptionHeaders.TryGetHeader(MessageHeaders.FaultRetryCount, out var header)
                 && int.TryParse(Convert.ToString(header, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
        {
            retries = count;
        }

        return retries + 1;
    }

    /// <summary>
    /// The exception that names the cause: MassTransit wraps a body it cannot read in a SerializationException whose inner
    /// exception says what was wrong with it; the full chain stays in the stack trace.
    /// </summary>
    private static Exception Cause(Exception exception)
    {
        while (exception.InnerException is { } inner
               && (exception is AggregateException || exception is System.Runtime.Serialization.SerializationException))
        {
            exception = inner;
        }

        return exception;
    }

    private static void AddProperty(Dictionary<string, string?> headers, string name, string? value)
    {
        if (value is not null)
        {
            headers[PropertyPrefix + name] = value;
        }
    }


    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    internal sealed record BodyIdentity(string? Key, string? IdempotencyKey, string? EnvelopeMessageId, string? EnvelopeCorrelationId);

    /// <summary>The ERP key and explicit idempotency key from a plain JSON body, or from the <c>message</c> of MassTransit's envelope.</summary>
    internal static BodyIdentity ReadBody(DeadLetterBody body)
    {
        if (body.Encoding != DeadLetterBody.Utf8)
        {
            return new BodyIdentity(null, null, null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body.Text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new BodyIdentity(null, null, null, null);
            }

            var isEnvelope = Property(root, "messageType") is { ValueKind: JsonValueKind.Array } && Property(root, "message") is { ValueKind: JsonValueKind.Object };
            var message = isEnvelope ? Property(root, "message")!.Value : root;
            // Read from a body that failed: clipped to the columns, the full values stay in the stored body.
            return new BodyIdentity(
                Clip(ErpKey(message), 300),
                Clip(Text(Property(message, "idempotencyKey"))?.Trim(), 255),
                isEnvelope ? Clip(Text(Property(root, "messageId")), 255) : null,
                isEnvelope ? Clip(Text(Property(root, "correlationId")), 255) : null);
        }
        catch (JsonException)
        {
            return new BodyIdentity(null, null, null, null);
        }
    }

    /// <summary>The last member with this name in any case: the one the consumer's reader (System.Text.Json) keeps.</summary>
    private static JsonElement? Property(JsonElement element, string name)
    {
        JsonElement? found = null;
        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals(name) || string.Equals(PropertyName(property), name, StringComparison.OrdinalIgnoreCase))
            {
                found = property.Value;
            }
        }

        return found;
    }

    private static string? PropertyName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            // An escaped unpaired surrogate has no string form, and is no name the capture looks for.
            return null;
        }
    }

    /// <summary>The ERP's key as each flow's result events carry it: <c>key</c>, else the invoice's <c>documentId</c>, else the payment's number or id.</summary>
    private static string? ErpKey(JsonElement message)
        => Text(Property(message, "key"))
           ?? Text(Property(message, "documentId"))
           ?? Text(Property(message, "paymentNumber"))
           ?? Text(Property(message, "paymentId"));

    private static string? Clip(string? value, int length) => value is { Length: > 0 } && value.Length > length ? StorableText.Clip(value, length) : value;

    private static string? Text(JsonElement? element)
    {
        if (element is not { ValueKind: JsonValueKind.String } value)
        {
            return null;
        }

        string? text;
        try
        {
            text = value.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped unpaired surrogate ("\ud800") has no string form: kept as written in the body.
            text = value.GetRawText()[1..^1];
        }

        return string.IsNullOrWhiteSpace(text) ? null : text;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{MessageType} from {Queue} (message id {MessageId}) is dead-lettered as {DeadLetterId} (failure {FailureCount}): {ExceptionType}")]
    private static partial void LogCaptured(ILogger logger, string messageType, string queue, string? messageId, Guid deadLetterId, int failureCount, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dead-letter store cannot take a dead letter for {Queue} right now")]
    private static partial void LogProbeFailed(ILogger logger, string queue, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not store the failed message from {Queue} (message id {MessageId}) as a dead letter; moving it to the error queue instead")]
    private static partial void LogCaptureFailed(ILogger logger, string queue, string? messageId, Exception exception);
}

/// <summary>A message no consumer of its queue took: it names a message type the queue does not handle.</summary>
public sealed class UnhandledMessageTypeException(string message) : Exception(message);
