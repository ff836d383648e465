using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.Contracts;
using Bridge.Host.DeadLetters.Capture;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bridge.Host.DeadLetters.Replay;

[JsonConverter(typeof(JsonStringEnumConverter<DeadLetterActionOutcome>))]
public enum DeadLetterActionOutcome
{
    /// <summary>The action happened.</summary>
    Done,

    NotFound,

    /// <summary>The dead letter's status does not allow the action (e.g. it is being replayed right now).</summary>
    Conflict,

    /// <summary>The message could not be sent to its queue; the dead letter is Pending again.</summary>
    SendFailed,

    /// <summary>Edit-and-replay is not enabled in this installation.</summary>
    Disabled,

    /// <summary>The edited body does not satisfy the message's contract.</summary>
    Invalid,
}

/// <param name="Status">The dead letter's status after the action (or as found, when refused).</param>
/// <param name="NewMessageId">For edit-and-replay: the message id of the new message.</param>
public sealed record DeadLetterActionResult(
    Guid Id,
    DeadLetterActionOutcome Outcome,
    DeadLetterStatus? Status,
    string? Detail,
    string? NewMessageId = null,
    IReadOnlyList<string>? Errors = null);

/// <summary>
/// What operators do with dead letters: replay (to the original queue, with the original body, headers and message id,
/// so the message's idempotency key makes replaying something that had in fact succeeded harmless), edit and replay,
/// discard and restore. Every action, refused ones included, is recorded in the dead letter's audit trail.
/// </summary>
public sealed partial class DeadLetterOperations(
    IDeadLetterStore store,
    IQueueTransport transport,
    IOptions<DeadLetterOptions> options,
    DeadLetterMetrics metrics,
    ILogger<DeadLetterOperations> logger)
{
    /// <summary>Set on a replayed message: the dead letter it came from.</summary>
    public const string ReplayOfHeader = NewDeadLetter.ReplayOfHeader;

    /// <summary>Set on an edited message: the dead letter it replaces.</summary>
    public const string EditedFromHeader = "Bridge-Edited-From";

    private static readonly JsonSerializerOptions StrictContractJson = new(JsonSerializerDefaults.Web)
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public async Task<DeadLetterActionResult> ReplayAsync(Guid id, string actor, string? jobId, CancellationToken cancellationToken)
    {
        var details = await store.GetAsync(id, cancellationToken);
        if (details is null)
        {
            return new DeadLetterActionResult(id, DeadLetterActionOutcome.NotFound, null, "No dead letter has this id.");
        }

        var detail = jobId is null ? null : $"replay job {jobId}";
        var owner = $"{actor}:{Guid.NewGuid():N}";
        var copy = Guid.NewGuid().ToString("D");
        if (!await store.TryClaimReplayAsync(id, owner, options.Value.ReplayClaimLease, copy, cancellationToken))
        {
            if (await store.GetAsync(id, cancellationToken) is { Letter.EditMessageId: { } edit } now)
            {
                await store.AuditAsync(id, new DeadLetterAction(actor, "Replay", "Refused: edited", $"edit {edit}" + (detail is null ? "" : $"; {detail}")), cancellationToken);
                metrics.Replay("refused", "replay");
                return new DeadLetterActionResult(
                    id, DeadLetterActionOutcome.Conflict, now.Letter.Status,
                    $"Replay refused: an edited copy of this message was sent as message {edit}, or its send was begun and may have reached the queue; replayed, the original could be applied beside it. Send the same edit again (it is the same message, applied once) or discard this one once the edit is answered.");
            }

            return await RefuseAsync(id, actor, "Replay", detail, details.Letter.Status, cancellationToken);
        }

        var letter = details.Letter;
        // Captured from RabbitMQ (its AMQP properties kept), the copy carries the message_id the original carried, and none when
        // it had none: the envelope's own id is then its key, as it was the original's (the letter holds that key).
        var fromBroker = letter.Headers.Keys.Any(name => name.StartsWith(DeadLetterCapture.PropertyPrefix, StringComparison.Ordinal));
        var messageId = fromBroker ? letter.Headers.GetValueOrDefault(DeadLetterCapture.PropertyPrefix + "message_id") : letter.Summary.MessageId;
        var headers = ApplicationHeaders(letter);
        headers[ReplayOfHeader] = id.ToString("D");
        headers[NewDeadLetter.ReplayCopyHeader] = copy;
        LinkToOriginalTrace(headers);
        var outgoing = new OutgoingMessage(letter.Summary.SourceQueue, letter.Body.ToBytes(), messageId, letter.CorrelationId, letter.ContentType, Properties(letter), headers);
        if (await SendOrReleaseAsync(outgoing, id, owner, actor, "Replay", detail, cancellationToken, copy: copy) is { } failed)
        {
            return failed;
        }

        var replayed = new DeadLetterAction(actor, "Replay", "Replayed", detail);
        if (!await store.CompleteReplayAsync(id, owner, replayed, CancellationToken.None))
        {
            // The replayed message already failed again and was captured (Pending once more): the replay still happened.
            await store.AuditAsync(id, replayed, CancellationToken.None);
        }

        metrics.Replay("replayed");
        LogReplayed(logger, id, letter.Summary.SourceQueue, actor);
        return new DeadLetterActionResult(id, DeadLetterActionOutcome.Done, DeadLetterStatus.Replayed, $"Sent back to {letter.Summary.SourceQueue}.");
    }

    /// <summary>
    /// Sends <paramref name="body"/> as a new message (its id derived from the dead letter and the body, see
    /// <see cref="EditMessageId"/>; linked to the original by a header) to the original queue, after checking it against the
    /// message's contract, and archives the original as Discarded.
    /// </summary>
    public async Task<DeadLetterActionResult> EditAndReplayAsync(Guid id, JsonElement body, string actor, CancellationToken cancellationToken)
    {
        if (!options.Value.AllowEditAndReplay)
        {
            return new DeadLetterActionResult(id, DeadLetterActionOutcome.Disabled, null, $"Edit and replay is off ({DeadLetterOptions.Section}:AllowEditAndReplay).");
        }

        var details = await store.GetAsync(id, cancellationToken);
        if (details is null)
        {
            return new DeadLetterActionResult(id, DeadLetterActionOutcome.NotFound, null, "No dead letter has this id.");
        }

        var letter = details.Letter;
        var errors = Validate(letter, body);
        if (errors.Count > 0)
        {
            await store.AuditAsync(id, new DeadLetterAction(actor, "EditAndReplay", "Refused: invalid body", string.Join("; ", errors)), cancellationToken);
            metrics.Replay("refused", "edit");
            return new DeadLetterActionResult(id, DeadLetterActionOutcome.Invalid, letter.Status, "The edited body does not satisfy the contract.", Errors: errors);
        }

        var owner = $"{actor}:{Guid.NewGuid():N}";
        var newMessageId = EditMessageId(id, body).ToString("D");
        var detail = $"new message {newMessageId}";
        if (!await store.TryClaimEditAsync(id, owner, options.Value.ReplayClaimLease, newMessageId, new DeadLetterAction(actor, "EditAndReplay", "Sending", detail), cancellationToken))
        {
            return await RefuseEditAsync(id, newMessageId, actor, letter.Status, cancellationToken);
        }

        var headers = ApplicationHeaders(letter);
        headers[EditedFromHeader] = id.ToString("D");
        LinkToOriginalTrace(headers);
        var properties = Properties(letter);
        properties.Remove("content_encoding");
        var outgoing = new OutgoingMessage(
            letter.Summary.SourceQueue, Encoding.UTF8.GetBytes(body.GetRawText()), newMessageId, letter.CorrelationId, "application/json", properties, headers);
        if (await SendOrReleaseAsync(outgoing, id, owner, actor, "EditAndReplay", detail, cancellationToken, kind: "edit") is { } failed)
        {
            return failed;
        }

        var reason = $"Edited and replayed as message {newMessageId}.";
        if (!await store.CompleteEditAsync(id, owner, reason, new DeadLetterAction(actor, "EditAndReplay", "Discarded", detail), CancellationToken.None))
        {
            await store.AuditAsync(id, new DeadLetterAction(actor, "EditAndReplay", "Sent", detail), CancellationToken.None);
        }

        metrics.Replay("replayed", "edit");
        LogEdited(logger, id, newMessageId, actor);
        return new DeadLetterActionResult(id, DeadLetterActionOutcome.Done, DeadLetterStatus.Discarded, reason, newMessageId);
    }

    /// <summary>
    /// The message id of an edit: derived from the dead letter and the edited content (SHA-256, as a version-8 UUID), never
    /// drawn anew. An edit tried again — after a send that failed or was cancelled once its frame may already have reached
    /// the broker, when the letter is Pending again — is then the same message under the same idempotency key, applied once.
    /// The content is taken in a canonical form (<see cref="WriteCanonical"/>), so the same correction sent by another client
    /// (the CLI re-serialises it, curl sends it as typed) is the same message too.
    /// </summary>
    public static Guid EditMessageId(Guid deadLetterId, JsonElement editedBody)
    {
        var canonical = new ArrayBufferWriter<byte>();
        string scheme;
        try
        {
            using var writer = new Utf8JsonWriter(canonical, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            WriteCanonical(writer, editedBody);
            writer.Flush();
            scheme = "bridge-edit";
        }
        catch (InvalidOperationException)
        {
            // Text no string can hold (an escaped lone surrogate): the body as written, under a scheme of its own.
            canonical.ResetWrittenCount();
            canonical.Write(Encoding.UTF8.GetBytes(editedBody.GetRawText()));
            scheme = "bridge-edit-raw";
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{scheme}/{deadLetterId:D}/"));
        hash.AppendData(canonical.WrittenSpan);
        var bytes = hash.GetHashAndReset().AsSpan(0, 16);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>
    /// <paramref name="element"/> without whitespace, each object's properties ordered by name (ordinal), recursively;
    /// strings and names by their decoded text (so <c>\u0410</c> and <c>А</c> are one); numbers, <c>true</c>, <c>false</c>
    /// and <c>null</c> exactly as written (100.50 stays 100.50, never 100.5).
    /// </summary>
    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(property => property.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            default:
                writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
                break;
        }
    }

    /// <summary>
    /// Why an edit's claim was refused: another edit, or a replayed copy of the original, may already be in the queue (either
    /// would be applied beside this edit), else the letter's status.
    /// </summary>
    private async Task<DeadLetterActionResult> RefuseEditAsync(Guid id, string newMessageId, string actor, DeadLetterStatus seen, CancellationToken cancellationToken)
    {
        var letter = (await store.GetAsync(id, cancellationToken))?.Letter;
        var (outcome, why) = letter switch
        {
            { EditMessageId: { } other } when other != newMessageId => (
                "Refused: another edit",
                $"Edit refused: an edit with another body (message {other}) may already be in the queue; send that same edit again, or discard this letter once that edit is answered. Sent now, this edit could be applied beside it."),
            { OriginalSentAt: { } sentAt } => (
                "Refused: replayed",
                string.Create(CultureInfo.InvariantCulture, $"Edit refused: the original was replayed and may still be in the queue (sent at {sentAt:O}); an edit could be applied beside it. Replay it again instead (it is the same message, applied once), or edit it once that copy has failed again and the letter is Pending.")),
            _ => (null, null),
        };
        if (outcome is null)
        {
            return await RefuseAsync(id, actor, "EditAndReplay", null, seen, cancellationToken, kind: "edit");
        }

        await store.AuditAsync(id, new DeadLetterAction(actor, "EditAndReplay", outcome, $"new message {newMessageId}"), cancellationToken);
        metrics.Replay("refused", "edit");
        return new DeadLetterActionResult(id, DeadLetterActionOutcome.Conflict, letter!.Status, why);
    }

    /// <summary>Whether an edited copy of the letter was certainly sent (as the store's restore statement judges it).</summary>
    private static bool EditWasSent(DeadLetterDetails details)
        => details.Audit.Any(entry => entry.Action == "EditAndReplay" && entry.Outcome is "Discarded" or "Sent");

    public async Task<DeadLetterActionResult> DiscardAsync(Guid id, string reason, string actor, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var details = await store.GetAsync(id, cancellationToken);
        if (details is null)
        {
            return new DeadLetterActionResult(id, DeadLetterActionOutcome.NotFound, null, "No dead letter has this id.");
        }

        if (!await store.DiscardAsync(id, reason, new DeadLetterAction(actor, "Discard", "Discarded", reason), cancellationToken))
        {
            return await RefuseAsync(id, actor, "Discard", reason, details.Letter.Status, cancellationToken, kind: null);
        }

        metrics.Discarded();
        return new DeadLetterActionResult(id, DeadLetterActionOutcome.Done, DeadLetterStatus.Discarded, reason);
    }

    public async Task<DeadLetterActionResult> RestoreAsync(Guid id, string actor, CancellationToken cancellationToken)
    {
        var details = await store.GetAsync(id, cancellationToken);
        if (details is null)
        {
            return new DeadLetterActionResult(id, DeadLetterActionOutcome.NotFound, null, "No dead letter has this id.");
        }

        if (!await store.RestoreAsync(id, new DeadLetterAction(actor, "Restore", "Pending"), cancellationToken))
        {
            if (EditWasSent(details))
            {
                // The store refuses it for good: the edit was sent, there is nothing left to send from this letter.
                var edit = details.Letter.EditMessageId;
                await store.AuditAsync(id, new DeadLetterAction(actor, "Restore", "Refused: edited", $"edit {edit} was sent"), cancellationToken);
                return new DeadLetterActionResult(
                    id, DeadLetterActionOutcome.Conflict, details.Letter.Status,
                    $"Restore refused: this message was replaced by an edited copy (message {edit}), which was sent; replayed, the original would be applied next to it. Look up the edited message instead.");
            }

            return await RefuseAsync(id, actor, "Restore", null, details.Letter.Status, cancellationToken, kind: null);
        }

        return new DeadLetterActionResult(id, DeadLetterActionOutcome.Done, DeadLetterStatus.Pending, null);
    }

    /// <summary>Problems of <paramref name="body"/> as the message's contract; empty when it is acceptable.</summary>
    public static IReadOnlyList<string> Validate(DeadLetter letter, JsonElement body)
    {
        ArgumentNullException.ThrowIfNull(letter);
        if (body.ValueKind != JsonValueKind.Object)
        {
            return ["body: must be a JSON object (the message itself, not MassTransit's envelope)"];
        }

        var contract = typeof(IResultEvent).Assembly.GetType($"{typeof(IResultEvent).Namespace}.{letter.Summary.MessageType}", throwOnError: false);
        if (contract is null)
        {
            return [$"messageType: {letter.Summary.MessageType} is not a Bridge.Contracts message, so an edited body cannot be checked"];
        }

        try
        {
            if (JsonSerializer.Deserialize(body, contract, StrictContractJson) is null)
            {
                return ["body: must not be null"];
            }
        }
        catch (JsonException ex)
        {
            return [$"{(string.IsNullOrEmpty(ex.Path) ? "body" : ex.Path)}: {ex.Message}"];
        }

        // The original's key (its explicit idempotencyKey, else its message id) is recorded with the original payload, and the
        // letter holds it: reused, the edited message would be refused as an idempotency conflict, or held by this very letter.
        var original = DeadLetterCapture.IdempotencyKeyOf(letter);
        var edited = DeadLetterCapture.ReadBody(new DeadLetterBody(body.GetRawText(), DeadLetterBody.Utf8)).IdempotencyKey;
        if (original is not null && string.Equals(original, edited, StringComparison.Ordinal))
        {
            return [$"idempotencyKey: must differ from the original's ('{original}') or be left out, or the edited message is refused as an idempotency conflict"];
        }

        return [];
    }

    private async Task<DeadLetterActionResult?> SendOrReleaseAsync(
        OutgoingMessage outgoing, Guid id, string owner, string actor, string action, string? detail, CancellationToken cancellationToken, string kind = "replay", string? copy = null)
    {
        try
        {
            await transport.SendAsync(outgoing, cancellationToken);
            return null;
        }
        catch (Exception ex)
        {
            // Whether a cancelled send reached the broker is unknown; releasing lets it be replayed again, which the
            // message's idempotency key makes harmless. Only a replay's send that certainly reached nothing takes back the copy
            // of the original its claim counted (an edit's marker stays: an earlier send of the same edit may be on the queue).
            var notSent = ex is MessageNotSentException;
            await store.ReleaseReplayAsync(
                id, owner, new DeadLetterAction(actor, action, (notSent ? "Not sent: " : "Failed: ") + (ex.InnerException ?? ex).GetType().Name, detail), CancellationToken.None,
                notSentCopy: notSent ? copy : null);
            metrics.Replay("failed", kind);
            LogSendFailed(logger, id, outgoing.Queue, ex);
            if (ex is OperationCanceledException)
            {
                throw;
            }

            return new DeadLetterActionResult(
                id, DeadLetterActionOutcome.SendFailed, DeadLetterStatus.Pending,
                notSent
                    ? $"Nothing was sent to {outgoing.Queue} (no connection to the broker: {ex.InnerException?.GetType().Name}); the dead letter is Pending again."
                    : $"Could not send to {outgoing.Queue} ({ex.GetType().Name}); it may or may not have reached the queue. The dead letter is Pending again.");
        }
    }

    private async Task<DeadLetterActionResult> RefuseAsync(
        Guid id, string actor, string action, string? detail, DeadLetterStatus seen, CancellationToken cancellationToken, string? kind = "replay")
    {
        var current = (await store.GetAsync(id, cancellationToken))?.Letter.Status ?? seen;

        // Pending and still refused: the letter's idempotency key decided (storage version 16), or another action on the
        // letter had it a moment ago and has just given it back.
        var why = current switch
        {
            DeadLetterStatus.Replaying => "it is being replayed right now",
            DeadLetterStatus.Pending => "another action had it a moment ago and has just given it back; try again",
            _ => $"it is {current}",
        };
        var outcome = $"Refused: {current}";
        if (current == DeadLetterStatus.Pending && kind is "replay" or "edit"
            && KeyReason(await store.KeyHoldersAsync(id, cancellationToken), kind) is { } byKey)
        {
            (outcome, why) = ("Refused: key", byKey);
        }

        await store.AuditAsync(id, new DeadLetterAction(actor, action, outcome, detail), cancellationToken);
        if (kind is not null)
        {
            metrics.Replay("refused", kind);
        }

        return new DeadLetterActionResult(id, DeadLetterActionOutcome.Conflict, current, $"{action} refused: {why}.");
    }

    /// <summary>Why the letter's key refused a replay or an edit, naming the letter that holds it back; null when nothing of the key does (another action had the letter).</summary>
    private static string? KeyReason(KeyHolders key, string kind)
    {
        var edited = key.Others.FirstOrDefault(other => other.Edited);
        var replayed = key.Others.FirstOrDefault(other => other.Copies > 0);
        return kind switch
        {
            "replay" when edited is not null =>
                $"dead letter {edited.Id:D} of this message's idempotency key '{key.IdempotencyKey}' was edited and replayed as a new message, which replaced this one; replayed, this one could be applied beside that edit. Nothing to do here: leave it (it holds the key, so the ERP sending the message again is held too)",
            "edit" when key.Answered =>
                $"a delivery of this message's idempotency key '{key.IdempotencyKey}' was already answered (applied or rejected): an edit would be a second effect. Discard this letter; if the answer was a rejection, have the ERP send a corrected message",
            "edit" when key.Effect is { State: "Sending" or "AsyncTask" } effect =>
                $"the effect of this message's idempotency key '{key.IdempotencyKey}' is open (effect {effect.Id}, {effect.State}): a delivery may be sending it right now, or the delivery that failed left it unanswered; an edit could be applied beside it. If a delivery of the message is still at work, wait for its answer; if none is, check ActivePlatform and settle the effect (bridge effects show {effect.Id}, then bridge effects resolve once it can no longer land): settled as not applied, the edit may be tried again; applied, an edit would be a second effect: correct what was applied through the ERP (a new message under a new key) or in ActivePlatform (a replay would send the original's payload, the one the edit replaces, if it never happened)",
            "edit" when key.Effect is { State: "Applied" } effect =>
                $"ActivePlatform applied the effect of this message's idempotency key '{key.IdempotencyKey}' (effect {effect.Id}); an edit would be a second one. Correct what was applied through the ERP (a new message under a new key) or in ActivePlatform. A replay sends nothing the journal holds as applied (it may answer the original); discarding the letter leaves the original unanswered, and holds its key",
            "edit" when key.Effect is { } effect =>
                $"the effect of this message's idempotency key '{key.IdempotencyKey}' may have reached ActivePlatform and nothing tells (effect {effect.Id}, {effect.State}); an edit could be a second one. Check ActivePlatform and resolve it first (bridge effects show {effect.Id}, then bridge effects resolve): not applied, the edit may be tried again; applied, an edit would be a second effect: correct what was applied through the ERP (a new message under a new key) or in ActivePlatform",
            "edit" when key.SentUnjournaled =>
                $"a delivery of this message's idempotency key '{key.IdempotencyKey}' sent ActivePlatform a call the effect journal does not record (a status change, a rate batch or a notification run), or an async task of it is pending: whether it was carried out cannot be told from Bridge's records, and an edit could be a second one. Check ActivePlatform: if the call was carried out, correct it there first; then discard this letter, and have the ERP send the corrected message under a new key (a replay would send the original's payload again)",
            "edit" when edited is not null =>
                $"dead letter {edited.Id:D} of this message's idempotency key '{key.IdempotencyKey}' was edited and replayed as a new message; only that edit may be sent (resend it from that letter). Sent now, this edit could be applied beside it",
            "edit" when replayed is not null =>
                $"dead letter {replayed.Id:D} of this message's idempotency key '{key.IdempotencyKey}' was replayed and its copy may still be in the queue; an edit could be applied beside it. Replay instead (the same message, applied once), or edit once that copy has failed again",
            _ => null,
        };
    }

    /// <summary>MassTransit's trace header, read when a message is received.</summary>
    public const string MassTransitActivityIdHeader = "MT-Activity-Id";

    /// <summary>How MassTransit relates a received message to the trace in <see cref="MassTransitActivityIdHeader"/>: <c>Link</c> starts a new trace linked to it.</summary>
    public const string MassTransitActivityPropagationHeader = "MT-Activity-Propagation";

    /// <summary>
    /// A replay is handled in a trace of its own, linked to the trace of the handling that failed (captured with the dead
    /// letter), else to the trace the original delivery came with.
    /// </summary>
    public static void LinkToOriginalTrace(Dictionary<string, string?> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var original = new[] { DeadLetterCapture.TraceParentHeader, MassTransitActivityIdHeader, "traceparent" }
            .Select(headers.GetValueOrDefault)
            .FirstOrDefault(value => System.Diagnostics.ActivityContext.TryParse(value, null, out _));
        headers.Remove(DeadLetterCapture.TraceParentHeader);
        if (original is not null)
        {
            headers[MassTransitActivityIdHeader] = original;
            headers[MassTransitActivityPropagationHeader] = "Link";
        }
    }

    private static Dictionary<string, string?> ApplicationHeaders(DeadLetter letter) =>
        letter.Headers
            .Where(header => !header.Key.StartsWith(DeadLetterCapture.PropertyPrefix, StringComparison.Ordinal)
                && !header.Key.StartsWith("MT-Fault-", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(header.Key, "MT-Reason", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(header.Key, ReplayOfHeader, StringComparison.Ordinal)
                && !string.Equals(header.Key, NewDeadLetter.ReplayCopyHeader, StringComparison.Ordinal)
                && !string.Equals(header.Key, EditedFromHeader, StringComparison.Ordinal))
            .ToDictionary(header => header.Key, header => header.Value, StringComparer.Ordinal);

    private static Dictionary<string, string?> Properties(DeadLetter letter) =>
        letter.Headers
            .Where(header => header.Key.StartsWith(DeadLetterCapture.PropertyPrefix, StringComparison.Ordinal))
            .ToDictionary(header => header.Key[DeadLetterCapture.PropertyPrefix.Length..], header => header.Value, StringComparer.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {DeadLetterId} replayed to {Queue} by {Actor}")]
    private static partial void LogReplayed(ILogger logger, Guid deadLetterId, string queue, string actor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {DeadLetterId} edited and replayed as message {MessageId} by {Actor}")]
    private static partial void LogEdited(ILogger logger, Guid deadLetterId, string messageId, string actor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending dead letter {DeadLetterId} to {Queue} failed; it is Pending again")]
    private static partial void LogSendFailed(ILogger logger, Guid deadLetterId, string queue, Exception exception);
}
