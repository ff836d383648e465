namespace Bridge.Chaos.Model;

/// <summary>What the model expects of a message, before anything else is known about the run.</summary>
public enum Expectation
{
    /// <summary>A well-formed message: it is applied (or, where order decides, skipped or refused as the flow's rules say).</summary>
    Valid,

    /// <summary>JSON that breaks the contract: one <c>InvalidMessage</c> rejection, nothing sent to ActivePlatform.</summary>
    Invalid,

    /// <summary>A body that is not JSON: one dead letter saying it cannot be read, nothing sent to ActivePlatform.</summary>
    Unreadable,

    /// <summary>A key Bridge may refuse (control characters): either applied, or one <c>InvalidMessage</c> rejection.</summary>
    ValidOrInvalid,

    /// <summary>JSON whose values have the wrong types: either one <c>InvalidMessage</c> rejection or one dead letter; never applied.</summary>
    InvalidOrUnreadable,

    /// <summary>Well-formed, but whether it can apply depends on the order it meets other messages in (an approval racing its
    /// create, an approve racing a decline): applied, or one rejection.</summary>
    ValidOrRefused,

    /// <summary>Well-formed, but ActivePlatform refuses it in the state it is in (cancel a completed payment): one rejection.</summary>
    Refused,

    /// <summary>One of several payloads for one natural key (a statement line, a top-up, a correction) under different message
    /// ids: the first to arrive is applied; a later one is answered from it, or rejected as an idempotency conflict.</summary>
    ValidOrConflict,
}

/// <summary>
/// One logical ERP message: one body under one idempotency key. Publishing it twice (a duplicate delivery) is still one
/// message; the same payload under a new message id (a republish) or another payload under the same id (a conflict) is
/// another <see cref="PlannedMessage"/>.
/// </summary>
public sealed class PlannedMessage
{
    /// <summary>Its place in the generated order (before interleaving); unique, used in reports as <c>#ordinal</c>.</summary>
    public required int Ordinal { get; init; }

    public required Flow Flow { get; init; }

    /// <summary>The contract, e.g. <c>SendClosingDocument</c>.</summary>
    public required string MessageType { get; init; }

    /// <summary>What Bridge keys the message by: its AMQP <c>message_id</c>, or the body's <c>idempotencyKey</c>.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>The AMQP <c>message_id</c>; null when the key travels in the body only.</summary>
    public required string? AmqpMessageId { get; init; }

    public required byte[] Body { get; init; }

    public string? ContentType { get; init; } = "application/json";

    public required Expectation Expectation { get; init; }

    /// <summary>The natural key the flow's checks group by: a document key, a payment number or id, a batch's reseller, …</summary>
    public required string Subject { get; init; }

    /// <summary>The typed contract as sent (null for a body that is not JSON).</summary>
    public object? Payload { get; init; }

    /// <summary>The idempotency key of a message this one is published after (once that one has a terminal outcome).</summary>
    public string? After { get; init; }

    /// <summary>In words, for reports: "revision 2 of document X, republished under a new id".</summary>
    public required string Description { get; init; }

    public string Queue => ErpQueues.ByMessageType[MessageType];

    /// <summary>The same message under another idempotency key and AMQP message id (a body key with a shared AMQP id).</summary>
    public PlannedMessage WithKeys(string idempotencyKey, string? amqpMessageId) => new()
    {
        Ordinal = Ordinal,
        Flow = Flow,
        MessageType = MessageType,
        IdempotencyKey = idempotencyKey,
        AmqpMessageId = amqpMessageId,
        Body = Body,
        ContentType = ContentType,
        Expectation = Expectation,
        Subject = Subject,
        Payload = Payload,
        After = After,
        Description = Description,
    };

    public override string ToString() => $"#{Ordinal} {MessageType} [{IdempotencyKey}] {Description}";
}

/// <summary>One publication of a planned message; a duplicate delivery is a second publication of the same message.</summary>
public sealed record Publication(PlannedMessage Message, int Copy);

/// <summary>The seeded stream: the messages and the order they are published in.</summary>
public sealed record ChaosPlan(IReadOnlyList<PlannedMessage> Messages, IReadOnlyList<Publication> Stream);
