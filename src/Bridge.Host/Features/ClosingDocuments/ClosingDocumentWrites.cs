using Bridge.ActivePlatform;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>The kinds of write a closing document receives; each is journaled as an effect of the document.</summary>
public static class DocumentWriteKind
{
    public const string Create = "create";
    public const string Update = "update";
    public const string Delete = "delete";
}

/// <summary>
/// What a write's journal entry records: the version it writes (a delete: the version it came after) and, once known, the
/// document it made, changed or removed. <paramref name="Kind"/> is null in entries written before updates and deletes were
/// journaled: those are creates.
/// </summary>
public sealed record DocumentWrite(
    string Version,
    string? Outcome = null,
    string? ExternalInvoiceId = null,
    string? How = null,
    string? FailureMessage = null,
    string? Kind = null)
{
    public string KindOrCreate => Kind ?? DocumentWriteKind.Create;
}

/// <summary>
/// Every write of a closing document — create, update, delete — is an effect of the document, not of the message (issue
/// 7, defect 2 and the ordering defects the chaos suite found): at most one is unresolved per document, and while one's
/// outcome is unknown (an async task still running, an answer lost, an instance killed or cut from its database) every
/// message for that key — a retry, a republish, a newer or older version, a delete — first settles it. So nothing creates
/// a second document, no older version is written over a newer one whose answer was lost, and a delete whose answer was
/// lost still knows it removed the document.
/// </summary>
/// <remarks>
/// The journal scope keeps its first name (<c>closing-document-create</c>): entries written before updates and deletes
/// joined it stay readable, and the one-unresolved-per-group index spans all three kinds.
/// </remarks>
public sealed class ClosingDocumentWrites(
    IBridgeDatabase database,
    IEffectJournal journal,
    IDocumentStateStore documents,
    IIdempotencyStore records,
    IActivePlatformClient activePlatform,
    ActivePlatformAsyncTaskPoller poller,
    IOptions<ActivePlatformOptions> activePlatformOptions)
{
    public static string Scope(long resellerId, long accountId) => FormattableString.Invariant($"closing-document-create:{resellerId}:{accountId}");

    /// <summary>The create of a document by one message: one per message, so its outcome is found again on every retry.</summary>
    public static EffectId CreateId(long resellerId, long accountId, string documentKey, string idempotencyKey)
        => new(Scope(resellerId, accountId), documentKey + "\n" + idempotencyKey, documentKey);

    /// <summary>One update sent: a new effect per send (repeating an update is harmless; what matters is its order).</summary>
    public static EffectId UpdateId(long resellerId, long accountId, string documentKey, string idempotencyKey)
        => new(Scope(resellerId, accountId), documentKey + "\nupdate\n" + idempotencyKey + "\n" + Guid.NewGuid().ToString("N"), documentKey);

    /// <summary>The delete of a document by one message: found again on every retry, so a lost answer is not read as "absent".</summary>
    public static EffectId DeleteId(long resellerId, long accountId, string documentKey, string idempotencyKey)
        => new(Scope(resellerId, accountId), documentKey + "\ndelete\n" + idempotencyKey, documentKey);

    /// <summary>The journal's owner key of a write: the message's idempotency key.</summary>
    public static string OwnerOf(EffectId id) => id.Key.Split('\n') switch
    {
        [_, var owner] => owner,
        [_, _, var owner, ..] => owner,
        _ => id.Key,
    };

    /// <summary>
    /// Settles the document's unresolved write, if it has one, and returns it as settled (null when there was none). The
    /// document's state is brought up to what the settled write did: a version that may have been written counts as
    /// written (no older version goes over it); a delete that happened marks the document deleted. Throws
    /// <see cref="EffectPendingException"/> while the outcome cannot be known yet: the message waits, as for a busy document.
    /// </summary>
    /// <remarks>
    /// A write an older Bridge sent before the journal existed, known only from the marker on its message's record
    /// (<c>CreateSent|ticks</c>, <c>Created|task</c>, <c>Updated|task</c>), is first adopted into the journal as this
    /// document's unresolved write — by whichever message for the key comes first, its own or another — and then settled
    /// like any other (see <see cref="AdoptLegacyWriteAsync"/>).
    /// </remarks>
    /// <param name="self">The message settling and the version it writes: a marker of its own is adopted with that version.</param>
    public async Task<EffectEntry?> SettleOpenWriteAsync(long resellerId, long accountId, string documentKey, CancellationToken cancellationToken, (string IdempotencyKey, string Version)? self = null)
    {
        var open = await journal.FindOpenAsync(Scope(resellerId, accountId), documentKey, cancellationToken);
        return (await SettleAsync(open, resellerId, accountId, documentKey, cancellationToken, self, deleting: null)).Settled;
    }

    /// <summary>
    /// As <see cref="SettleOpenWriteAsync(long, long, string, CancellationToken, ValueTuple{string, string}?)"/>, and then
    /// <paramref name="own"/>'s entry as it stands after the settling: read with the open write in one statement, and read
    /// again only when something was settled or adopted meanwhile.
    /// </summary>
    public Task<(EffectEntry? Settled, EffectEntry? Own)> SettleOpenWriteAsync(long resellerId, long accountId, string documentKey, EffectId own, CancellationToken cancellationToken, (string IdempotencyKey, string Version)? self = null)
        => SettleOpenWriteAsync(resellerId, accountId, documentKey, own, deleting: null, cancellationToken, self);

    /// <summary>
    /// As <see cref="SettleOpenWriteAsync(long, long, string, EffectId, CancellationToken, ValueTuple{string, string}?)"/>, for
    /// a delete (<paramref name="own"/>): the delete comes after the write it settles, whatever that write's outcome. A create
    /// whose outcome was unknown and that can no longer land without having made the document (answered 5xx, or its
    /// instance killed, before it reached ActivePlatform) counts as written, like an update whose outcome cannot be told,
    /// and the document as absent after it: recorded together with its settling, so this delete (on this attempt or its
    /// next) records that it came after that version, the create's own retry is skipped instead of bringing the deleted
    /// document back, and an older version arriving meanwhile is skipped as one a delete came after. A delete that carries
    /// a version (<paramref name="deleteVersion"/>) comes after a create only if the create's version is not newer.
    /// </summary>
    public Task<(EffectEntry? Settled, EffectEntry? Own)> SettleOpenWriteBeforeDeleteAsync(long resellerId, long accountId, string documentKey, EffectId own, string? deleteVersion, CancellationToken cancellationToken)
        => SettleOpenWriteAsync(resellerId, accountId, documentKey, own, new Deleting(deleteVersion), cancellationToken, self: null);

    /// <summary>A delete settling: <see cref="Version"/> is the version it carries, null when it carries none.</summary>
    private sealed record Deleting(string? Version)
    {
        /// <summary>
        /// Whether the delete comes after a write of <paramref name="writeVersion"/>: always without a version of its own;
        /// never when the two cannot be compared (of different kinds: the delete is then refused, see the delete's handler).
        /// </summary>
        public bool ComesAfter(string writeVersion) => Version is null
            || (DocumentVersion.SameKind(Version, writeVersion) && !DocumentVersion.IsOlder(Version, writeVersion));
    }

    private async Task<(EffectEntry? Settled, EffectEntry? Own)> SettleOpenWriteAsync(long resellerId, long accountId, string documentKey, EffectId own, Deleting? deleting, CancellationToken cancellationToken, (string IdempotencyKey, string Version)? self)
    {
        var (open, mine) = await journal.FindOpenAndOwnAsync(Scope(resellerId, accountId), documentKey, own, cancellationToken);
        var (settled, untouched) = await SettleAsync(open, resellerId, accountId, documentKey, cancellationToken, self, deleting);
        if (untouched)
        {
            return (settled, mine);
        }

        return (settled, settled?.Id == own ? settled : await journal.FindAsync(own, cancellationToken));
    }

    /// <summary>Settles from <paramref name="open"/>, the group's open write as just read; untouched: nothing was open or adopted.</summary>
    private async Task<(EffectEntry? Settled, bool Untouched)> SettleAsync(EffectEntry? open, long resellerId, long accountId, string documentKey, CancellationToken cancellationToken, (string IdempotencyKey, string Version)? self, Deleting? deleting)
    {
        EffectEntry? settled = null;
        for (var round = 0; ; round++)
        {
            if (round > 0)
            {
                open = await journal.FindOpenAsync(Scope(resellerId, accountId), documentKey, cancellationToken);
            }

            if (open is null)
            {
                if (!await AdoptLegacyWriteAsync(resellerId, accountId, documentKey, self, cancellationToken))
                {
                    return (settled, round == 0);
                }

                if (round >= MaxSettleRounds)
                {
                    throw new EffectPendingException($"Closing document '{documentKey}' still has writes from before the effect journal to adopt; retrying.");
                }

                continue;
            }

            var write = open.EvidenceAs<DocumentWrite>() ?? new DocumentWrite("");
            settled = write.KindOrCreate switch
            {
                DocumentWriteKind.Update => await SettleUpdateAsync(open, write, resellerId, accountId, documentKey, cancellationToken),
                DocumentWriteKind.Delete => await SettleDeleteAsync(open, write, resellerId, accountId, documentKey, cancellationToken),
                _ => await SettleCreateAsync(open, write, resellerId, accountId, documentKey, deleting, cancellationToken),
            };
        }
    }

    private const int MaxSettleRounds = 8;

    /// <summary>The update an older Bridge awaited as an async task for one message (one per message: it stored one marker).</summary>
    public static EffectId LegacyUpdateId(long resellerId, long accountId, string documentKey, string idempotencyKey)
        => new(Scope(resellerId, accountId), documentKey + "\nupdate\n" + idempotencyKey + "\nlegacy", documentKey);

    /// <summary>
    /// Adopts into the journal the oldest write an older Bridge sent for this key before the journal existed and that is not
    /// journaled yet: a marker on an in-progress <c>SendClosingDocument</c> record for the key (its own message's or any
    /// other's — a newer revision, a republish, a delete must wait for it just as for a journaled write). The marker stays
    /// where it is (that message still reads it; completing it clears it) and the journal row, keyed by the marker's message,
    /// is written in one statement: two instances adopting at once write one row (the other finds it), a crash leaves either
    /// no row (adopted by the next message) or the row (settled by the next message). True when a marker was not journaled
    /// yet (adopted now, or by a racing instance, or waiting behind the group's open write): the caller settles and looks
    /// again.
    /// </summary>
    /// <remarks>
    /// The record names the document's key but not its account: a marker for the same key in another account is adopted
    /// here too. That only makes this document wait as if its create's outcome were unknown (until the polling deadline);
    /// the marker's own message adopts it again under its own account.
    /// </remarks>
    private async Task<bool> AdoptLegacyWriteAsync(long resellerId, long accountId, string documentKey, (string IdempotencyKey, string Version)? self, CancellationToken cancellationToken)
    {
        foreach (var record in await records.FindMarkedForDocumentAsync(nameof(SendClosingDocument), documentKey, cancellationToken))
        {
            var marker = record.PendingAsyncTaskId!;
            EffectId id;
            string? taskId = null;
            var sentAt = record.UpdatedAt;
            string kind;
            if (LegacyCreateSent.TryParse(marker, out var createSentAt))
            {
                (id, kind, sentAt) = (CreateId(resellerId, accountId, documentKey, record.IdempotencyKey), DocumentWriteKind.Create, createSentAt);
            }
            else if (PendingWrite.TryParse(marker, out var pending))
            {
                taskId = pending.TaskId;
                (id, kind) = pending.Outcome == ClosingDocumentWriteOutcome.Updated
                    ? (LegacyUpdateId(resellerId, accountId, documentKey, record.IdempotencyKey), DocumentWriteKind.Update)
                    : (CreateId(resellerId, accountId, documentKey, record.IdempotencyKey), DocumentWriteKind.Create);
            }
            else
            {
                continue;
            }

            if (await journal.FindAsync(id, cancellationToken) is not null)
            {
                continue;
            }

            var version = self is { } me && me.IdempotencyKey == record.IdempotencyKey ? me.Version : "";
            var write = new DocumentWrite(version, How: $"sent by a Bridge from before the effect journal (marker '{marker}' on message '{record.IdempotencyKey}'); adopted into the journal", Kind: kind);
            await journal.TryAdoptAsync(id, record.IdempotencyKey, taskId, sentAt, EffectEvidence.Of(write), cancellationToken);
            return true;
        }

        return false;
    }

    /// <param name="deleter">
    /// The settler is a delete: a create that made no document counts as written if the delete comes after it (see
    /// <see cref="SettleOpenWriteBeforeDeleteAsync"/>) — unless its async task failed, which its message reports as a refusal.
    /// </param>
    private async Task<EffectEntry> SettleCreateAsync(EffectEntry open, DocumentWrite create, long resellerId, long accountId, string documentKey, Deleting? deleter, CancellationToken cancellationToken)
    {
        var deleting = deleter?.ComesAfter(create.Version) == true;
        if (open.AsyncTaskId is { } taskId)
        {
            try
            {
                await poller.WaitForCompletionAsync(resellerId, taskId, cancellationToken);
            }
            catch (AsyncTaskFailedException failed)
            {
                return await ResolveAsync(open, EffectState.NotApplied, null, create with { How = $"async task {taskId} failed", FailureMessage = failed.FailureMessage ?? failed.Message });
            }
            catch (ActivePlatformPermanentException gone) when (gone.IsResourceNotFound)
            {
                // The task expired (issue 7, defect 11): it ended long ago, so the document is there or never will be. (A
                // 404 is believed only for a reseller the token reaches: for one it does not, the task may still be running,
                // and the check's refusal is a read-back that failed, below.)
            }
            catch (ActivePlatformPermanentException failed)
            {
                throw ReadBackFailed(documentKey, taskId, failed);
            }

            var written = await FindAsync(resellerId, accountId, documentKey, cancellationToken);
            return written is null
                ? await ResolveAsync(open, EffectState.NotApplied, null, create with { How = $"async task {taskId} ended and no document has key '{documentKey}'" + CountedBeforeDelete(deleting) }, countsAsWritten: deleting, deletedAfter: deleting)
                : await ResolveAsync(open, EffectState.Applied, written.Id, create with { ExternalInvoiceId = written.Id, How = $"async task {taskId} ended; found by key" });
        }

        // Sent, and its answer never recorded: the create may still be an async task ActivePlatform is working on.
        var appeared = await FindAsync(resellerId, accountId, documentKey, cancellationToken);
        if (appeared is not null)
        {
            return await ResolveAsync(open, EffectState.Applied, appeared.Id, create with { ExternalInvoiceId = appeared.Id, How = "answer lost; found by key" });
        }

        // The create may still be on its way (the in-flight window) or an async task nobody polls (the polling deadline).
        var deadline = LostWriteWait(activePlatformOptions.Value, open);
        if (open.SinceSent < deadline)
        {
            throw new EffectPendingException(
                $"A create of closing document '{documentKey}' was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; waiting up to {deadline.TotalSeconds:0} s for it to appear before sending it again.");
        }

        return await ResolveAsync(open, EffectState.NotApplied, null, create with { How = $"answer lost; no document with key '{documentKey}' once it could no longer land ({deadline} after its send)" + CountedBeforeDelete(deleting) }, countsAsWritten: deleting, deletedAfter: deleting);
    }

    private static string CountedBeforeDelete(bool deleting)
        => deleting ? "; settled by a delete, which comes after it: its version counts as written and the document as absent after it, so its message is skipped instead of creating it" : "";

    /// <summary>
    /// How long after its send a write of a closing document whose answer was lost may still change it: the request may
    /// still be on its way until the in-flight window
    /// (<see cref="EffectTiming.InFlightWindow(Bridge.ActivePlatform.ActivePlatformOptions)"/>) has passed, and may then
    /// become an async task that nobody polls and that runs for up to the polling deadline — the two added, as the
    /// operator's rule (<see cref="EffectTiming.OperatorMayResolveOpenAfter(Bridge.ActivePlatform.ActivePlatformOptions)"/>)
    /// adds them.
    /// </summary>
    public static TimeSpan LostWriteWait(ActivePlatformOptions options) => EffectTiming.OperatorMayResolveOpenAfter(options);

    /// <summary><see cref="LostWriteWait(ActivePlatformOptions)"/> for a recorded send: by the larger of this instance's and the sender's values.</summary>
    public static TimeSpan LostWriteWait(ActivePlatformOptions options, EffectEntry sent) => EffectTiming.OperatorMayResolveOpenAfter(options, sent);

    private async Task<EffectEntry> SettleUpdateAsync(EffectEntry open, DocumentWrite update, long resellerId, long accountId, string documentKey, CancellationToken cancellationToken)
    {
        if (open.AsyncTaskId is { } taskId)
        {
            try
            {
                await poller.WaitForCompletionAsync(resellerId, taskId, cancellationToken);
                return await ResolveAsync(open, EffectState.Applied, null, update with { Outcome = "Updated", How = $"async task {taskId} completed" });
            }
            catch (AsyncTaskFailedException failed)
            {
                return await ResolveAsync(open, EffectState.NotApplied, null, update with { How = $"async task {taskId} failed", FailureMessage = failed.FailureMessage ?? failed.Message });
            }
            catch (ActivePlatformPermanentException gone) when (gone.IsResourceNotFound)
            {
                // Only a 404 for a reseller the token reaches is an expired task: one it does not reach may still have its
                // task running, which a newer version written now would find under it when it ends.
                return await ResolveAsync(open, EffectState.NotApplied, null, update with { How = $"async task {taskId} expired before it was read: it ended, and whether it applied cannot be told; counted as written, so no older version goes over it, and its message sends it again (an update is harmless to repeat)" }, countsAsWritten: true);
            }
            catch (ActivePlatformPermanentException failed)
            {
                throw ReadBackFailed(documentKey, taskId, failed);
            }
        }

        // Sent, and its answer never recorded. It may still be on its way, or an async task nobody can poll: wait until
        // neither can still change the document, then count the version as written (its own message repeats the update).
        var wait = LostWriteWait(activePlatformOptions.Value, open);
        if (open.SinceSent < wait)
        {
            throw new EffectPendingException(
                $"An update of closing document '{documentKey}' ({DocumentVersion.Describe(update.Version)}) was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; waiting up to {wait.TotalSeconds:0} s until it can no longer be applied before writing the document again.");
        }

        return await ResolveAsync(open, EffectState.NotApplied, null, update with { How = $"answer lost; whether it applied cannot be told, and it can no longer be applied later (sent {open.SinceSent.TotalSeconds:0} s ago); counted as written, so no older version goes over it, and its message sends it again (an update is harmless to repeat)" }, countsAsWritten: true);
    }

    private async Task<EffectEntry> SettleDeleteAsync(EffectEntry open, DocumentWrite delete, long resellerId, long accountId, string documentKey, CancellationToken cancellationToken)
    {
        var window = EffectTiming.InFlightWindow(activePlatformOptions.Value, open);
        if (open.SinceSent < window)
        {
            throw new EffectPendingException(
                $"A delete of closing document '{documentKey}' was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; waiting up to {window.TotalSeconds:0} s until it can no longer be applied.");
        }

        // No other write of this document ran since the delete was sent (one unresolved write per document): the document
        // it targeted is gone because of it, or still there because it never arrived.
        var found = await FindAsync(resellerId, accountId, documentKey, cancellationToken);
        if (found is null)
        {
            // Read as this delete's removal, so the 404 must be the document's, not a token narrowed since it was confirmed.
            await EffectReadBack.RunAsync($"A write of closing document '{documentKey}'", async () =>
            {
                await activePlatform.ConfirmResellerReachableAsync(resellerId, cancellationToken);
                return true;
            });
        }

        return found is null
            ? await ResolveAsync(open, EffectState.Applied, null, delete with { Outcome = "Deleted", How = "answer lost; the document is no longer found by key" })
            : await ResolveAsync(open, EffectState.NotApplied, null, delete with { How = $"answer lost; document {found.Id} is still found by key" });
    }

    /// <param name="countsAsWritten">
    /// For an update whose outcome cannot be told, or a create settled by a delete: it is recorded
    /// <see cref="EffectState.NotApplied"/> (it may be sent again, and an operator has nothing to decide: repeating an update
    /// is harmless, and a create is sent again only if no delete came after it), yet its version counts as written.
    /// </param>
    /// <param name="deletedAfter">
    /// With <paramref name="countsAsWritten"/>, for a create settled by a delete that found no document: the document is
    /// recorded absent after the create's version at once, not only once the delete completes — a version arriving between
    /// the two (an older one skipped as older than the create's) must not read the create's version as a document
    /// ActivePlatform holds.
    /// </param>
    private async Task<EffectEntry> ResolveAsync(EffectEntry open, EffectState state, string? id, DocumentWrite evidence, bool countsAsWritten = false, bool deletedAfter = false)
    {
        try
        {
            await ResolveAndRecordAsync(open, state, id, evidence, countsAsWritten, deletedAfter);
        }
        catch (System.Data.Common.DbException ex) when (SqlValues.IsUniqueViolation(ex))
        {
            // The document found by key is already another create's: which create made it cannot be told.
            state = EffectState.Unknown;
            id = null;
            evidence = evidence with { How = $"found document {evidence.ExternalInvoiceId} by key, but it already belongs to another create" };
            await ResolveAndRecordAsync(open, state, null, evidence, countsAsWritten: false, deletedAfter: false);
        }

        return open with { State = state, ResourceId = id ?? open.ResourceId, Evidence = EffectEvidence.Of(evidence) };
    }

    /// <summary>
    /// Closes the write and brings the document's state to what it did, in one transaction (settling runs under the
    /// document's claim): a settler killed, or cut from its database, between the two would otherwise leave a write the
    /// journal counts as done and the document does not — and a late, older version would be written over it.
    /// </summary>
    private async Task ResolveAndRecordAsync(EffectEntry open, EffectState state, string? id, DocumentWrite evidence, bool countsAsWritten, bool deletedAfter)
    {
        var scope = ClosingDocumentScope.Of(ResellerOf(open.Id.Scope), AccountOf(open.Id.Scope));
        var current = await documents.GetAsync(scope, open.Id.Group, CancellationToken.None);
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        await journal.ResolveAsync(transaction, open.Id, open.Attempt, state, id, EffectEvidence.Of(evidence), CancellationToken.None);
        if (DocumentChangeOf(state, id, evidence, current, countsAsWritten, deletedAfter) is { } change)
        {
            await documents.SetAppliedAsync(transaction, scope, open.Id.Group, change.AppliedVersion, change.ResourceId, change.Deleted, CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>What the settled write did to the document: null when it changed nothing Bridge records.</summary>
    private static DocumentChange? DocumentChangeOf(EffectState state, string? id, DocumentWrite evidence, DocumentState? current, bool countsAsWritten, bool deletedAfter)
    {
        var kind = evidence.KindOrCreate;
        if (kind == DocumentWriteKind.Delete)
        {
            // The version the delete came after: the one it recorded (its own, when it carries one) or whatever was written since.
            return state == EffectState.Applied ? new DocumentChange(DocumentVersion.Newest(current?.AppliedVersion, evidence.Version), null, Deleted: true) : null;
        }

        // A create adopted from an older Bridge's marker by another message has no known version: the document it made exists.
        if (kind == DocumentWriteKind.Create && state == EffectState.Applied && evidence.Version.Length == 0 && id is not null)
        {
            return new DocumentChange(current?.AppliedVersion, id, Deleted: false);
        }

        // A create that made the document, or an update that may have been written: no older version may go over it.
        var written = state == EffectState.Applied || countsAsWritten;
        return written && evidence.Version.Length > 0 && !DocumentVersion.IsOlder(evidence.Version, current?.AppliedVersion)
            ? deletedAfter ? new DocumentChange(evidence.Version, null, Deleted: true) : new DocumentChange(evidence.Version, id ?? current?.ResourceId, Deleted: false)
            : null;
    }

    /// <summary>
    /// The settling read-back by key. Its failure — a refusal included — says nothing about the write: the write stays
    /// unresolved and the message is retried (<see cref="EffectReadBackFailedException"/>), never rejected.
    /// </summary>
    private Task<Bridge.ActivePlatform.Models.ExternalInvoice?> FindAsync(long resellerId, long accountId, string documentKey, CancellationToken cancellationToken)
        => EffectReadBack.RunAsync($"A write of closing document '{documentKey}'", () => activePlatform.FindClosingDocumentAsync(resellerId, accountId, documentKey, cancellationToken));

    private static EffectReadBackFailedException ReadBackFailed(string documentKey, string taskId, ActivePlatformException failed)
        => EffectReadBack.Failed($"A write of closing document '{documentKey}'", $"polling async task {taskId} answered {failed.Status}: {failed.Message}", failed);

    private static long ResellerOf(string scope) => long.Parse(scope.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

    private static long AccountOf(string scope) => long.Parse(scope.Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);
}
