using System.Text;
using System.Text.Json.Serialization;

namespace Bridge.Host.DeadLetters.Store;

/// <summary>Where a dead letter is in its life: Pending → Replaying → Replayed, or Discarded (and restored to Pending).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeadLetterStatus>))]
public enum DeadLetterStatus
{
    /// <summary>Waiting for an operator.</summary>
    Pending,

    /// <summary>Claimed by one replay, which is sending it back to its queue.</summary>
    Replaying,

    /// <summary>Sent back to its queue. If it fails again it becomes Pending again, with its failure count raised.</summary>
    Replayed,

    /// <summary>Archived by an operator (with a reason), or replaced by an edited copy; can be restored.</summary>
    Discarded,
}

/// <summary>A failed message as captured from the broker, before it is stored.</summary>
/// <param name="MessageId">The transport's message id (AMQP <c>message_id</c>), exactly as the publisher wrote it.</param>
/// <param name="ErpKey">The body's <c>key</c> when it could be read.</param>
/// <param name="Headers">The transport headers and the AMQP properties replay needs (<c>message_id</c>, <c>correlation_id</c>, <c>content_type</c>).</param>
/// <param name="AttemptCount">How many times this delivery was tried before it was given up.</param>
public sealed record NewDeadLetter(
    Guid Id,
    string SourceQueue,
    string MessageType,
    string? MessageId,
    string? ErpKey,
    string? CorrelationId,
    string? ContentType,
    DeadLetterBody Body,
    IReadOnlyDictionary<string, string?> Headers,
    string ExceptionType,
    string ExceptionMessage,
    string? StackTrace,
    int AttemptCount,
    DateTimeOffset FailedAt)
{
    /// <summary>Set by a replay on the copy of the original it sends: the dead letter's id.</summary>
    public const string ReplayOfHeader = Messaging.ReplayHeaders.ReplayOf;

    /// <summary>Set by a replay on the copy of the original it sends: the copy's own id, counted on the letter by the replay's claim.</summary>
    public const string ReplayCopyHeader = Messaging.ReplayHeaders.ReplayCopy;

    /// <summary>The dead letter this delivery is a replayed copy of; null for any other (the ERP's own, an edit).</summary>
    public Guid? ReplayOf => Headers.TryGetValue(ReplayOfHeader, out var value) && Guid.TryParse(value, out var id) ? id : null;

    /// <summary>Which copy of <see cref="ReplayOf"/> this is; null for a copy sent by a Bridge older than storage version 15.</summary>
    public string? ReplayCopy => Headers.TryGetValue(ReplayCopyHeader, out var value) && Guid.TryParse(value, out var copy) ? copy.ToString("D") : null;

    /// <summary>
    /// The key the consumer records this message under (the body's <c>idempotencyKey</c>, else the message id, trimmed), when
    /// it could be read: while the letter exists, a delivery of this key is held with it (storage version 16).
    /// </summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>What capturing found: the dead letter's id (an existing one when the message had failed before) and its failure count.</summary>
public sealed record DeadLetterCaptured(Guid Id, int FailureCount);

/// <summary>
/// A message body as stored: the text when it is valid UTF-8 without U+0000 (so operators can read it), otherwise base64
/// (a byte no database refuses), so the bytes always come back exactly.
/// </summary>
public sealed record DeadLetterBody(string Text, string Encoding)
{
    public const string Utf8 = "utf8";
    public const string Base64 = "base64";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static DeadLetterBody FromBytes(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return bytes.Contains((byte)0)
                ? new DeadLetterBody(Convert.ToBase64String(bytes), Base64)
                : new DeadLetterBody(StrictUtf8.GetString(bytes), Utf8);
        }
        catch (DecoderFallbackException)
        {
            return new DeadLetterBody(Convert.ToBase64String(bytes), Base64);
        }
    }

    public byte[] ToBytes() => Encoding == Base64 ? Convert.FromBase64String(Text) : StrictUtf8.GetBytes(Text);

    /// <summary>This body as every database can store it: text holding U+0000 (or an unpaired surrogate) becomes base64.</summary>
    public DeadLetterBody Storable() =>
        Encoding == Utf8 && StorableText.HasUnencodable(Text)
            ? new DeadLetterBody(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Text)), Base64)
            : this;
}

/// <summary>One row of the list: enough to recognise the message and its failure, without its body.</summary>
public sealed record DeadLetterSummary(
    Guid Id,
    string SourceQueue,
    string MessageType,
    string? MessageId,
    string? ErpKey,
    string ExceptionType,
    string ExceptionMessage,
    string FailureGroup,
    int AttemptCount,
    int FailureCount,
    DateTimeOffset FirstFailedAt,
    DateTimeOffset LastFailedAt,
    DeadLetterStatus Status,
    string? StatusReason,
    int ReplayCount);

/// <summary>Everything stored about one dead letter.</summary>
/// <param name="EditMessageId">The message id of the edit whose send was begun, if any: only that edit may be sent from now on.</param>
/// <param name="OriginalSentAt">When a replay last sent the original, while a copy it sent may still be in the queue: no edit then.</param>
public sealed record DeadLetter(
    DeadLetterSummary Summary,
    string? CorrelationId,
    string? ContentType,
    DeadLetterBody Body,
    IReadOnlyDictionary<string, string?> Headers,
    string? StackTrace,
    string NormalizedMessage,
    string? ReplayClaimedBy,
    DateTimeOffset? ReplayClaimExpiresAt,
    DateTimeOffset UpdatedAt,
    string? EditMessageId,
    DateTimeOffset? OriginalSentAt)
{
    public Guid Id => Summary.Id;

    public DeadLetterStatus Status => Summary.Status;
}

/// <summary>One operator (or Bridge) action on a dead letter: who, what, when, and how it ended.</summary>
public sealed record DeadLetterAuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string Outcome, string? Detail);

public sealed record DeadLetterDetails(DeadLetter Letter, IReadOnlyList<DeadLetterAuditEntry> Audit);

/// <summary>An action to record in the audit trail; the store stamps the time.</summary>
public sealed record DeadLetterAction(string Actor, string Action, string Outcome, string? Detail = null);

/// <summary>Which dead letters to list, group or replay. Every criterion is optional; set ones must all match.</summary>
/// <param name="Text">Found (case-insensitively where the database allows) in the exception message, body, ERP key or message id.</param>
/// <param name="From">Last failure at or after.</param>
/// <param name="To">Last failure before.</param>
public sealed record DeadLetterFilter(
    DeadLetterStatus? Status = null,
    string? MessageType = null,
    string? Queue = null,
    string? ErpKey = null,
    string? ExceptionType = null,
    string? FailureGroup = null,
    string? Text = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null);

public sealed record DeadLetterPage(IReadOnlyList<DeadLetterSummary> Items, long Total, int Page, int PageSize);

/// <summary>Dead letters that failed for the same cause: exception type + message with ids, numbers and quoted values masked.</summary>
public sealed record DeadLetterGroup(string FailureGroup, string ExceptionType, string NormalizedMessage, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen);

/// <summary>
/// A letter's idempotency key (null when it holds none), whether a delivery of it was answered (its record completed), and
/// the other letters of the key that count a replayed copy or were edited.
/// </summary>
public sealed record KeyHolders(string? IdempotencyKey, bool Answered, IReadOnlyList<KeyHolder> Others)
{
    /// <summary>
    /// The key's effect in the journal that most needs an operator (Unknown, then open, then Applied: any state but
    /// NotApplied), which refuses an edit (storage version 17); null when there is none.
    /// </summary>
    public KeyEffect? Effect { get; init; }

    /// <summary>
    /// Whether a delivery of the key sent a call the journal does not record (an invoice's or a correction's status change, a
    /// notification run), or has an async task pending: its outcome cannot be told here, and an edit is refused.
    /// </summary>
    public bool SentUnjournaled { get; init; }
}

/// <summary>An effect of a key, by its journal id and state.</summary>
public sealed record KeyEffect(string Id, string State);

/// <summary>Another letter of a key: its status, how many replayed copies it counts, and whether it was edited.</summary>
public sealed record KeyHolder(Guid Id, DeadLetterStatus Status, int Copies, bool Edited);
