using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Models;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Bridge.Host.Messaging;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>
/// Create-or-update by the ERP's key: look the document up by <c>filter[key]</c>, POST when absent, PATCH when present.
/// A version older than the one applied is skipped; an async answer is polled to its end from a stored task id.
/// </summary>
public sealed class SendClosingDocumentHandler(
    IdempotentExecutor executor,
    IActivePlatformClient activePlatform,
    ClosingDocumentWrites writes,
    IEffectJournal journal,
    IDocumentStateStore documents,
    ActivePlatformAsyncTaskPoller poller,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    IOptions<ClosingDocumentOptions> options,
    TimeProvider clock) : ICommandHandler<SendClosingDocumentCommand, HandlingOutcome>, IErpCommandRules<SendClosingDocumentCommand>
{
    // Checked by ErpCommandValidation before Handle runs.
    public List<string> Validate(SendClosingDocumentCommand command) => ClosingDocumentValidation.Validate(command.Message, options.Value.MaxFileBytes);

    public IResultEvent Rejected(SendClosingDocumentCommand command, Rejection rejection) => Rejected(command.Message, command.Incoming, rejection);

    public object? Payload(SendClosingDocumentCommand command) => command.Message;

    public async ValueTask<HandlingOutcome> Handle(SendClosingDocumentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        var version = DocumentVersion.Of(message);
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = ClosingDocumentScope.Of(resellerId, message.AccountId),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message, incoming, rejection),
            Apply = (context, ct) => ApplyAsync(context, message, incoming, resellerId, version, ct),
        }, cancellationToken);
    }

    private async Task<WorkResult> ApplyAsync(WorkContext context, SendClosingDocument message, IncomingMessage incoming, long resellerId, string version, CancellationToken cancellationToken)
    {
        // Whatever write of this document is still unresolved (this message's or another's) is settled first.
        var createId = ClosingDocumentWrites.CreateId(resellerId, message.AccountId, message.Key, incoming.IdempotencyKey!);
        var (settled, mine) = await writes.SettleOpenWriteAsync(resellerId, message.AccountId, message.Key, createId, cancellationToken, (incoming.IdempotencyKey!, version));
        var document = settled is null ? context.Document : await documents.GetAsync(ClosingDocumentScope.Of(resellerId, message.AccountId), message.Key, cancellationToken);

        // Older than what was written — or the very version a delete came after: a republish must not bring it back. This
        // holds even when this message's own create was applied: a newer version or a delete ran before its answer was
        // recorded, so "sent" would tell finance that ActivePlatform holds this version, and it does not.
        // So does this message's create adopted from a marker an older Bridge left and applied without a known version (adopted
        // by another message): a delete found the document it made, so the delete came after it.
        if (DocumentVersion.IsOlder(version, document?.AppliedVersion)
            || (document is { Deleted: true } && (DocumentVersion.IsSame(version, document.AppliedVersion)
                || (mine is { State: EffectState.Applied } && mine.EvidenceAs<DocumentWrite>() is { Version.Length: 0 }))))
        {
            return ClosingDocumentRejections.Skipped(message.Key, message.AccountId, incoming, version, document!, clock);
        }

        if (mine?.State == EffectState.Applied)
        {
            // This message's create was applied; its answer reached Bridge only through the settling read-back.
            return new WorkResult(HandlingOutcome.Applied, Sent(message, incoming, resellerId, ClosingDocumentWriteOutcome.Created, mine.ResourceId!), mine.ResourceId, null);
        }

        if (mine is { State: EffectState.NotApplied } && mine.EvidenceAs<DocumentWrite>() is { FailureMessage: { } failure })
        {
            throw new AsyncTaskFailedException(mine.AsyncTaskId ?? "", failure, new ActivePlatformFailureDetails());
        }

        if (settled is { State: EffectState.Applied } && ClosingDocumentWrites.OwnerOf(settled.Id) == incoming.IdempotencyKey
            && settled.EvidenceAs<DocumentWrite>() is { Kind: DocumentWriteKind.Update } update && update.Version == version && document?.ResourceId is { } updatedId)
        {
            // This message's own update, read back to its end by this retry: applied, nothing to send again.
            return new WorkResult(HandlingOutcome.Applied, Sent(message, incoming, resellerId, ClosingDocumentWriteOutcome.Updated, updatedId), updatedId, new DocumentChange(version, updatedId, Deleted: false));
        }

        var (outcome, id, effect, holdFor) = await WriteAsync(context, message, incoming, resellerId, version, createId, cancellationToken);

        // An async update whose document was deleted before the task was read back stays deleted in Bridge's record.
        var change = id.Length == 0 ? null : new DocumentChange(version, id, Deleted: false);
        id = id.Length == 0 ? document?.ResourceId ?? "" : id;
        return new WorkResult(HandlingOutcome.Applied, Sent(message, incoming, resellerId, outcome, id), id, change)
        {
            Effects = effect is null ? [] : [effect],
            HoldDocumentFor = holdFor,
        };
    }

    private ClosingDocumentSent Sent(SendClosingDocument message, IncomingMessage incoming, long resellerId, ClosingDocumentWriteOutcome outcome, string id) => new()
    {
        Key = message.Key,
        MessageId = incoming.IdempotencyKey!,
        CorrelationId = incoming.CorrelationId,
        OccurredAt = clock.GetUtcNow(),
        ResellerId = resellerId,
        AccountId = message.AccountId,
        ExternalInvoiceId = id,
        Outcome = outcome,
        Revision = message.Revision,
        ModifiedAt = message.ModifiedAt,
    };

    private async Task<(ClosingDocumentWriteOutcome Outcome, string Id, EffectResolution? Effect, TimeSpan? HoldFor)> WriteAsync(
        WorkContext context, SendClosingDocument message, IncomingMessage incoming, long resellerId, string version, EffectId createId, CancellationToken cancellationToken)
    {
        // Markers an older Bridge left before writes were journaled (on this message's record or another's for the key) were
        // adopted into the journal and settled above, like any unresolved write of the document.
        var body = ClosingDocumentMapping.ToWrite(message);
        var existing = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken);
        if (existing is not null)
        {
            return await UpdateAsync(context, message, incoming, resellerId, version, existing.Id, body, cancellationToken);
        }

        // A create is an effect of the document: journaled before the POST, so no other message for this key sends one
        // until this one's outcome is known.
        if (await journal.TryBeginAsync(createId, incoming.IdempotencyKey!, "", EffectEvidence.Of(new DocumentWrite(version, Kind: DocumentWriteKind.Create)), context.ClaimFence, cancellationToken) is not { } attempt)
        {
            throw new EffectPendingException($"Another write of closing document '{message.Key}' is unresolved.");
        }

        // Once a write is on its way it is not cancelled (the resilience pipeline's timeouts bound it): a write cancelled
        // after ActivePlatform accepted it would leave an effect Bridge does not know about.
        WriteResult<ExternalInvoice> result;
        try
        {
            result = await activePlatform.CreateClosingDocumentAsync(resellerId, message.AccountId, body, CancellationToken.None);
        }
        catch (ActivePlatformPermanentException refused) when (refused.Status == 422)
        {
            // Nothing was created. A 422 may mean the key is taken by a document Bridge did not create (or created before
            // its journal): then that document is updated; otherwise the refusal stands.
            await journal.ResolveAsync(createId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new DocumentWrite(version, How: "refused: " + refused.Message, Kind: DocumentWriteKind.Create)), CancellationToken.None);
            var appeared = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken);
            if (appeared is null)
            {
                throw;
            }

            return await UpdateAsync(context, message, incoming, resellerId, version, appeared.Id, body, cancellationToken);
        }
        catch (Exception unapplied) when (EffectFailures.ProvesNotApplied(unapplied))
        {
            await journal.ResolveAsync(createId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new DocumentWrite(version, How: "answered: " + unapplied.Message, Kind: DocumentWriteKind.Create)), CancellationToken.None);
            throw;
        }

        string id;
        if (result.AsyncTask is { } task)
        {
            await journal.SetAsyncTaskAsync(createId, attempt, task.Id, CancellationToken.None);
            try
            {
                id = await AwaitAsyncWriteAsync(resellerId, message, task.Id, update: false, cancellationToken);
            }
            catch (AsyncTaskFailedException failed)
            {
                await journal.ResolveAsync(createId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new DocumentWrite(version, How: $"async task {task.Id} failed", FailureMessage: failed.FailureMessage ?? failed.Message, Kind: DocumentWriteKind.Create)), CancellationToken.None);
                throw;
            }
        }
        else
        {
            id = result.Resource!.Id;
        }

        var created = new DocumentWrite(version, nameof(ClosingDocumentWriteOutcome.Created), id, "ActivePlatform's answer to the create", Kind: DocumentWriteKind.Create);
        return (ClosingDocumentWriteOutcome.Created, id, new EffectResolution(createId, attempt, EffectState.Applied, id, EffectEvidence.Of(created)), null);
    }

    /// <summary>
    /// An update, journaled on the document before the PATCH: if its answer is lost, no other version is written until it
    /// can no longer land, and it counts as written, so an older version arriving late is skipped instead of going over it.
    /// </summary>
    private async Task<(ClosingDocumentWriteOutcome Outcome, string Id, EffectResolution? Effect, TimeSpan? HoldFor)> UpdateAsync(
        WorkContext context, SendClosingDocument message, IncomingMessage incoming, long resellerId, string version, string externalInvoiceId, ClosingDocumentWrite body, CancellationToken cancellationToken)
    {
        var updateId = ClosingDocumentWrites.UpdateId(resellerId, message.AccountId, message.Key, incoming.IdempotencyKey!);
        var intent = new DocumentWrite(version, ExternalInvoiceId: externalInvoiceId, Kind: DocumentWriteKind.Update);
        if (await journal.TryBeginAsync(updateId, incoming.IdempotencyKey!, "", EffectEvidence.Of(intent), context.ClaimFence, cancellationToken) is not { } attempt)
        {
            throw new EffectPendingException($"Another write of closing document '{message.Key}' is unresolved.");
        }

        // Counted from the begin (the journal's send time), not from the answer: a later attempt can land no later than that.
        var begun = System.Diagnostics.Stopwatch.GetTimestamp();
        WriteResult<ExternalInvoice> result;
        try
        {
            result = await activePlatform.UpdateClosingDocumentAsync(resellerId, message.AccountId, externalInvoiceId, body, CancellationToken.None);
        }
        catch (ActivePlatformPermanentException refused) when (refused.AnAttemptMayHaveApplied)
        {
            // An earlier HTTP attempt of this PATCH ended unclear (its answer lost) and may have been carried out; the
            // refusal of a repeat says nothing about it. The update stays unresolved and is settled as one whose answer was
            // lost (counted as written once it can no longer land, then sent again) — never reported as refused.
            throw new EffectPendingException(
                $"An update of closing document '{message.Key}' ({DocumentVersion.Describe(version)}) was refused ({refused.Status}) after an earlier attempt whose answer was lost and which may have applied it; it is settled as an update whose answer was lost.");
        }
        catch (ActivePlatformPermanentException gone) when (gone.IsResourceNotFound)
        {
            // The document found by key a moment ago is gone: written by something outside this document's journal (an
            // operator in ActivePlatform, or a delivery that lost its claim). Nothing was updated; read the state again.
            await journal.ResolveAsync(updateId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(intent with { How = "answered 404: the document is gone" }), CancellationToken.None);
            throw new EffectPendingException($"Closing document '{message.Key}' ({externalInvoiceId}) disappeared between its lookup by key and its update; reading it again.");
        }
        catch (Exception unapplied) when (EffectFailures.ProvesNotApplied(unapplied))
        {
            await journal.ResolveAsync(updateId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(intent with { How = "answered: " + unapplied.Message }), CancellationToken.None);
            throw;
        }

        var id = result.Resource?.Id ?? externalInvoiceId;
        if (result.AsyncTask is { } task)
        {
            // After an unanswered earlier attempt the task is not recorded: were this delivery to stop while polling it, the
            // next write would settle the update by its task alone and go on at once, while the earlier attempt may still
            // land. Unrecorded, the update is settled as one whose answer was lost — after the wait from its send.
            if (!result.AnAttemptMayHaveApplied)
            {
                await journal.SetAsyncTaskAsync(updateId, attempt, task.Id, CancellationToken.None);
            }

            try
            {
                id = await AwaitAsyncWriteAsync(resellerId, message, task.Id, update: true, cancellationToken);
            }
            catch (AsyncTaskFailedException failed) when (result.AnAttemptMayHaveApplied)
            {
                throw new EffectPendingException(
                    $"The async task {task.Id} of an update of closing document '{message.Key}' ({DocumentVersion.Describe(version)}) failed ({failed.FailureMessage ?? failed.Message}) after an earlier attempt whose answer was lost and which may still apply it; it is settled as an update whose answer was lost.");
            }
            catch (AsyncTaskFailedException failed)
            {
                await journal.ResolveAsync(updateId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(intent with { How = $"async task {task.Id} failed", FailureMessage = failed.FailureMessage ?? failed.Message }), CancellationToken.None);
                throw;
            }
        }

        var updated = intent with { Outcome = nameof(ClosingDocumentWriteOutcome.Updated), How = "ActivePlatform's answer to the update" };
        // An earlier attempt of this PATCH that went unanswered may still be carried out (the same version again): the
        // document's next write must wait until it can no longer land, or it could be overwritten by this older version.
        var holdFor = result.AnAttemptMayHaveApplied
            ? ClosingDocumentWrites.LostWriteWait(activePlatformOptions.Value) - System.Diagnostics.Stopwatch.GetElapsedTime(begun)
            : TimeSpan.Zero;
        return (ClosingDocumentWriteOutcome.Updated, id, new EffectResolution(updateId, attempt, EffectState.Applied, null, EffectEvidence.Of(updated)), holdFor > TimeSpan.Zero ? holdFor : null);
    }

    /// <returns>The document's id; empty when an update's document was deleted (by a later delete) before it was read back.</returns>
    private async Task<string> AwaitAsyncWriteAsync(long resellerId, SendClosingDocument message, string taskId, bool update, CancellationToken cancellationToken)
    {
        try
        {
            await poller.WaitForCompletionAsync(resellerId, taskId, cancellationToken);
        }
        catch (ActivePlatformPermanentException failed) when (failed is not AsyncTaskFailedException)
        {
            // Polling the write's task was refused: that says nothing about the write, which stays unresolved.
            throw EffectReadBack.Failed($"A write of closing document '{message.Key}'", $"polling async task {taskId} answered {failed.Status}: {failed.Message}", failed);
        }

        // The task's results do not name the document: its id is read back by the ERP key.
        var written = await EffectReadBack.RunAsync(
            $"A write of closing document '{message.Key}'",
            () => activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken));
        if (written is null && update)
        {
            // The update was applied and the document deleted since (a delete for the key ran while this task was polled
            // across a retry): the update stands in history, and the document stays deleted.
            return "";
        }

        return written?.Id ?? throw new InvalidOperationException(
            $"ActivePlatform completed async task {taskId} but has no closing document with key '{message.Key}'.");
    }

    private ClosingDocumentRejected Rejected(SendClosingDocument? message, IncomingMessage incoming, Rejection rejection)
        => ClosingDocumentRejections.Build(message?.Key, nameof(SendClosingDocument), incoming, rejection, clock);
}

/// <summary>A create sent before writes were journaled, stored as <c>CreateSent|{utc ticks}</c> in the idempotency record by an older Bridge.</summary>
internal static class LegacyCreateSent
{
    private const string Prefix = "CreateSent|";

    public static bool TryParse(string? value, out DateTimeOffset at)
    {
        at = default;
        if (value is null || !value.StartsWith(Prefix, StringComparison.Ordinal)
            || !long.TryParse(value.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        at = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }
}

/// <summary>The async write being awaited, stored as <c>{outcome}|{taskId}</c> in the idempotency record.</summary>
internal sealed record PendingWrite(ClosingDocumentWriteOutcome Outcome, string TaskId)
{
    public override string ToString() => $"{Outcome}|{TaskId}";

    public static bool TryParse(string? value, out PendingWrite pending)
    {
        pending = null!;
        var separator = value?.IndexOf('|', StringComparison.Ordinal) ?? -1;
        if (separator <= 0 || !Enum.TryParse<ClosingDocumentWriteOutcome>(value![..separator], out var outcome))
        {
            return false;
        }

        pending = new PendingWrite(outcome, value[(separator + 1)..]);
        return true;
    }
}

/// <summary>
/// Orders versions of one document: by the ERP's revision when it sends one, else by its modification time (contracts:
/// "when both are present, revision orders the versions"). Two versions of the same revision that both carry a modification
/// time are ordered by it, so an earlier edit published late under the same revision is not written over a later one.
/// Stored as fixed-width tokens — <c>r:{revision}</c>, <c>r:{revision}:{ticks}</c>, <c>t:{ticks}</c> — so that ordinal
/// comparison is numeric comparison; tokens stored before the tie-break (<c>r:{revision}</c>) compare as they did.
/// </summary>
public static class DocumentVersion
{
    public static string Of(SendClosingDocument message) => Of(message.Revision, message.ModifiedAt)!;

    /// <summary>The version a delete carries; null when it carries none (it is then ordered by when Bridge handles it).</summary>
    public static string? Of(DeleteClosingDocument message) => Of(message.Revision, message.ModifiedAt);

    private static string? Of(long? revision, DateTimeOffset? modifiedAt)
        => revision is { } r
            ? modifiedAt is { } at
                ? $"r:{r.ToString("D20", CultureInfo.InvariantCulture)}:{at.UtcTicks.ToString("D20", CultureInfo.InvariantCulture)}"
                : $"r:{r.ToString("D20", CultureInfo.InvariantCulture)}"
            : modifiedAt is { } t ? $"t:{t.UtcTicks.ToString("D20", CultureInfo.InvariantCulture)}" : null;

    /// <summary>
    /// The newer of two versions, <paramref name="other"/> on a tie (the same revision, one of them without a modification
    /// time: the more precise or the later-recorded token stands); <paramref name="applied"/> when the two cannot be compared
    /// (of different kinds) or <paramref name="other"/> is absent or older.
    /// </summary>
    public static string? Newest(string? applied, string? other)
    {
        applied = string.IsNullOrEmpty(applied) ? null : applied;
        other = string.IsNullOrEmpty(other) ? null : other;
        return applied is null ? other : other is not null && Compare(other, applied) >= 0 ? other : applied;
    }

    /// <summary>Whether two versions are of the same kind (both revisions, or both modification times), so that they compare.</summary>
    public static bool SameKind(string a, string b) => a.Length > 0 && b.Length > 0 && a[0] == b[0];

    /// <summary>True when <paramref name="incoming"/> is older than <paramref name="applied"/>. Versions of different kinds are not comparable: never older.</summary>
    public static bool IsOlder(string incoming, string? applied) => Compare(incoming, applied) < 0;

    /// <summary>
    /// True when <paramref name="incoming"/> is the version <paramref name="applied"/> records: the same revision (and the
    /// same modification time, when both carry one), or the same modification time.
    /// </summary>
    public static bool IsSame(string incoming, string? applied) => Compare(incoming, applied) == 0;

    public static string Describe(string token)
    {
        var (order, tie) = Split(token);
        return token.Length < 3 ? token : token[0] switch
        {
            'r' when tie is not null => $"revision {long.Parse(order.AsSpan(2), CultureInfo.InvariantCulture)}, modified at {AtTicks(tie):O}",
            'r' => $"revision {long.Parse(order.AsSpan(2), CultureInfo.InvariantCulture)}",
            't' => $"modified at {AtTicks(order[2..]):O}",
            _ => token,
        };
    }

    /// <summary>Null when the two cannot be compared (of different kinds, or nothing applied).</summary>
    private static int? Compare(string incoming, string? applied)
    {
        if (applied is null || incoming.Length < 3 || applied.Length < 3 || incoming[0] != applied[0])
        {
            return null;
        }

        var (order, tie) = Split(incoming);
        var (appliedOrder, appliedTie) = Split(applied);
        var byOrder = string.CompareOrdinal(order, appliedOrder);
        return byOrder != 0 || tie is null || appliedTie is null ? Math.Sign(byOrder) : Math.Sign(string.CompareOrdinal(tie, appliedTie));
    }

    private static (string Order, string? Tie) Split(string token)
    {
        var separator = token.Length > 2 ? token.IndexOf(':', 2) : -1;
        return separator < 0 ? (token, null) : (token[..separator], token[(separator + 1)..]);
    }

    private static DateTimeOffset AtTicks(string ticks) => new(long.Parse(ticks, CultureInfo.InvariantCulture), TimeSpan.Zero);
}

public static class ClosingDocumentScope
{
    public static string Of(long resellerId, long accountId) => FormattableString.Invariant($"closing-document:{resellerId}:{accountId}");
}
