using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using MassTransit.Serialization;

namespace Bridge.Host.Ingress;

/// <summary>What a status lookup found, and whether sending the message again may be needed.</summary>
/// <param name="Status">What the ERP is told.</param>
/// <param name="MayPublishAgain">
/// True when nothing has decided the message yet and no operator holds it: never confirmed, or neither handled nor
/// dead-lettered (still queued, or lost from the queue, or dead-lettered and purged since). Sending it again is then the
/// remedy, and harmless: its idempotency record absorbs a second copy.
/// </param>
public sealed record IngressLookup(IngressMessageStatus Status, bool MayPublishAgain);

/// <summary>
/// Reads what became of a message sent through the door, attributing every piece to that message: the idempotency record
/// only when it holds the message's own payload (an AMQP message that used the key first is another message), a dead letter
/// only when its body is the message's, a result event only when it is the outcome of the record or the dead letter shown.
/// </summary>
public sealed class IngressStatusReader(IngressStore submissions, IIdempotencyStore records)
{
    /// <summary>How an edit-and-replay closes a dead letter (DeadLetterOperations): the new message's id follows.</summary>
    public const string EditedPrefix = "Edited and replayed as message ";

    public async Task<IngressLookup> ReadAsync(IngressSubmission submission, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var key = submission.IdempotencyKey;
        var record = await records.FindAsync(key, cancellationToken);
        var deadLetter = await submissions.LatestDeadLetterAsync(key, cancellationToken);
        if (deadLetter is not null && !IsOf(deadLetter, submission))
        {
            deadLetter = null;
        }

        var (status, description) = IngressApi.Decide(submission, record, deadLetter);
        IngressResultEvent? result = status switch
        {
            IngressStatus.Applied or IngressStatus.Skipped or IngressStatus.Rejected or IngressStatus.Completed
                => await submissions.LatestEventAsync(key, deadLettered: false, cancellationToken),
            IngressStatus.Edited when EditedAs(deadLetter) is { } edited
                => await submissions.LatestEventAsync(edited, deadLettered: false, cancellationToken),
            IngressStatus.DeadLettered or IngressStatus.Discarded or IngressStatus.InProgress when deadLetter is not null
                => await DeadLetterEventAsync(key, deadLetter.Id, cancellationToken),
            _ => null,
        };

        var mayPublishAgain = MayPublishAgain(submission, status, deadLetter);
        return new IngressLookup(
            new IngressMessageStatus(
                key,
                submission.MessageType,
                status,
                description,
                submission.CreatedAt,
                submission.ConfirmedAt,
                result is null ? null : new IngressResult(result.MessageType, Parse(result.Body), result.CreatedAt, result.DispatchedAt is not null),
                deadLetter is null ? null : new IngressDeadLetterView(deadLetter.Id, deadLetter.Status, $"{deadLetter.ExceptionType}: {deadLetter.Reason}", deadLetter.LastFailedAt)),
            mayPublishAgain);
    }

    /// <summary>
    /// Whether the door publishes a submission the ERP sent again: while nothing has decided it and no operator holds it
    /// (never confirmed, still queued, or lost since). Never once it has a dead letter, whatever its status: the letter
    /// counts the copies a replay sent, not the door's, and an edit of the letter could be applied beside a copy the door
    /// put back (found by review: a Replayed letter's submission was published again).
    /// </summary>
    public static bool MayPublishAgain(IngressSubmission submission, string status, IngressDeadLetter? deadLetter)
    {
        ArgumentNullException.ThrowIfNull(submission);
        return deadLetter is null && (submission.ConfirmedAt is null
            ? status is not (IngressStatus.Conflict or IngressStatus.DeadLettered or IngressStatus.Discarded or IngressStatus.Edited)
            : status is IngressStatus.Accepted or IngressStatus.InProgress);
    }

    /// <summary>The id of the message an operator's edit-and-replay sent in place of this dead letter.</summary>
    public static string? EditedAs(IngressDeadLetter? deadLetter) =>
        deadLetter is { Status: "Discarded", StatusReason: { } reason } && reason.StartsWith(EditedPrefix, StringComparison.Ordinal)
            ? reason[EditedPrefix.Length..].TrimEnd('.').Trim()
            : null;

    /// <summary>
    /// Whether the dead letter holds this submission's message: its body (inside MassTransit's envelope on the in-memory
    /// transport) read into the contract gives the submission's fingerprint. An unreadable body is another message: the
    /// door only sends bodies it could read.
    /// </summary>
    public static bool IsOf(IngressDeadLetter deadLetter, IngressSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        ArgumentNullException.ThrowIfNull(submission);
        if (deadLetter.Body is null || IngressCatalog.Find(submission.MessageType) is not { } type)
        {
            return false;
        }

        try
        {
            if (JsonNode.Parse(deadLetter.Body) is not JsonObject body)
            {
                return false;
            }

            if (deadLetter.ContentType?.Contains("vnd.masstransit", StringComparison.OrdinalIgnoreCase) == true && body["message"] is JsonObject inner)
            {
                body = inner;
            }

            var typed = body.Deserialize(type.Contract, SystemTextJsonMessageSerializer.Options);
            return string.Equals(PayloadFingerprint.Of(typed).Value, submission.Fingerprint, StringComparison.Ordinal);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private async Task<IngressResultEvent?> DeadLetterEventAsync(string key, Guid deadLetterId, CancellationToken cancellationToken)
    {
        var announced = await submissions.LatestEventAsync(key, deadLettered: true, cancellationToken);
        using var body = announced is null ? null : JsonDocument.Parse(announced.Body);
        return body is not null && body.RootElement.TryGetProperty("deadLetterId", out var id) && id.TryGetGuid(out var value) && value == deadLetterId
            ? announced
            : null;
    }

    private static JsonElement Parse(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }
}
