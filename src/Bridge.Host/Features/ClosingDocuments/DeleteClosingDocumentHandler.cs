using Bridge.ActivePlatform;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Bridge.Host.Messaging;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>
/// Deletes by the ERP's key; a document ActivePlatform does not have is reported as already absent, not as an error. The
/// delete is journaled on the document, so a lost answer is never read back as "it was not there".
/// </summary>
public sealed class DeleteClosingDocumentHandler(
    IdempotentExecutor executor,
    IActivePlatformClient activePlatform,
    ClosingDocumentWrites writes,
    IEffectJournal journal,
    IDocumentStateStore documents,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<DeleteClosingDocumentCommand, HandlingOutcome>, IErpCommandRules<DeleteClosingDocumentCommand>
{
    // Checked by ErpCommandValidation before Handle runs.
    public List<string> Validate(DeleteClosingDocumentCommand command) => ClosingDocumentValidation.Validate(command.Message);

    public IResultEvent Rejected(DeleteClosingDocumentCommand command, Rejection rejection) => Rejected(command.Message, command.Incoming, rejection);

    public object? Payload(DeleteClosingDocumentCommand command) => command.Message;

    public async ValueTask<HandlingOutcome> Handle(DeleteClosingDocumentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = ClosingDocumentScope.Of(resellerId, message.AccountId),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message, incoming, rejection),
            Apply = (context, ct) => ApplyAsync(context, message, incoming, resellerId, ct),
        }, cancellationToken);
    }

    private async Task<WorkResult> ApplyAsync(WorkContext context, DeleteClosingDocument message, IncomingMessage incoming, long resellerId, CancellationToken ct)
    {
        // A write still unresolved (a create that would bring the document back after this delete reported it absent, an
        // update, this delete's own send whose answer was lost) is settled first. Without a version of its own the delete
        // comes after it: its version, whether or not it reached ActivePlatform, is the one recorded as deleted after, so its
        // message is skipped. With one, it comes after the versions not newer than its own.
        var deleteVersion = DocumentVersion.Of(message);
        var deleteId = ClosingDocumentWrites.DeleteId(resellerId, message.AccountId, message.Key, incoming.IdempotencyKey!);
        var (settled, mine) = await writes.SettleOpenWriteBeforeDeleteAsync(resellerId, message.AccountId, message.Key, deleteId, deleteVersion, ct);
        var document = settled is null ? context.Document : await documents.GetAsync(ClosingDocumentScope.Of(resellerId, message.AccountId), message.Key, ct);

        if (mine is { State: EffectState.Applied } && mine.EvidenceAs<DocumentWrite>() is { ExternalInvoiceId: var removed })
        {
            // This message's delete removed the document; its answer reached Bridge only through the settling read-back,
            // which also recorded the deletion on the document. Whatever was written since (a newer version creating the
            // document again) stands: the document is not marked deleted a second time. The answer names such a version, which
            // was answered first (chaos seed 1252: a subscriber reading the last answer took the document for deleted): the
            // document recorded present as another document than the one removed (a version written after a delete creates
            // it anew; an operator's resolution of this delete leaves the record of the removed one as it was).
            var supersededBy = document is { Deleted: false, AppliedVersion: { Length: > 0 } written, ResourceId: { } now } && now != removed
                ? DocumentVersion.Describe(written)
                : null;
            return new WorkResult(HandlingOutcome.Applied, Deleted(message, incoming, removed, wasPresent: true) with { SupersededBy = supersededBy }, removed, null);
        }

        if (deleteVersion is not null && document?.AppliedVersion is { Length: > 0 } appliedVersion && !DocumentVersion.SameKind(deleteVersion, appliedVersion))
        {
            // A revision and a modification time cannot be ordered against each other: the delete could be neither the last
            // word nor skipped with reason. Refused before anything is deleted; the ERP sends it again with the right kind.
            var error = appliedVersion[0] == 'r'
                ? "revision: this document's versions are ordered by revision; a delete's version must be a revision too (modifiedAt alone cannot be ordered against them). Nothing was deleted."
                : "modifiedAt: this document's versions are ordered by modifiedAt; a delete's version must be a modifiedAt without a revision. Nothing was deleted.";
            return new WorkResult(HandlingOutcome.Rejected, Rejected(message, incoming, Rejection.Invalid([error])), null, null);
        }

        if (deleteVersion is not null && DocumentVersion.IsOlder(deleteVersion, document?.AppliedVersion))
        {
            // A deletion older than the version written (the ERP deleted the document and sent a newer version of it since;
            // the delete was delivered late): the newer version stands, nothing is deleted.
            return ClosingDocumentRejections.Skipped(message.Key, message.AccountId, incoming, deleteVersion, document!, clock);
        }

        // The version the delete comes after stays recorded (its own, when newer): a late version not newer than it must not
        // bring the deleted document back.
        var change = new DocumentChange(DocumentVersion.Newest(document?.AppliedVersion, deleteVersion), null, Deleted: true);

        var existing = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, ct);
        if (existing is null)
        {
            // "Nothing to delete" is a success, so the token's reach is confirmed now: a confirmation a few minutes old would
            // let a token narrowed since report a document that is still there as absent.
            await activePlatform.ConfirmResellerReachableAsync(resellerId, ct);
            return new WorkResult(HandlingOutcome.Applied, Deleted(message, incoming, null, wasPresent: false), null, change);
        }

        var intent = new DocumentWrite(change.AppliedVersion ?? "", ExternalInvoiceId: existing.Id, Kind: DocumentWriteKind.Delete);
        if (await journal.TryBeginAsync(deleteId, incoming.IdempotencyKey!, "", EffectEvidence.Of(intent), context.ClaimFence, ct) is not { } attempt)
        {
            throw new EffectPendingException($"Another write of closing document '{message.Key}' is unresolved.");
        }

        var how = "ActivePlatform's answer to the delete";
        try
        {
            var answer = await activePlatform.DeleteClosingDocumentAsync(resellerId, message.AccountId, existing.Id, CancellationToken.None);
            if (!answer.WasPresent && !answer.AnAttemptMayHaveApplied)
            {
                // A 404 to every attempt, none of which can have removed it: the document found by key a moment ago was
                // removed by something else (a manager by hand, a delivery that lost its claim) before this delete reached
                // ActivePlatform. Never this delete's effect: recorded as not applied, and reported as finding nothing.
                var gone = intent with { Outcome = "Absent", How = "answered 404 to an attempt that did nothing: removed by something else between the lookup by key and this delete" };
                return new WorkResult(HandlingOutcome.Applied, Deleted(message, incoming, null, wasPresent: false), null, change)
                {
                    Effects = [new EffectResolution(deleteId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(gone))],
                };
            }

            // A 404 after an earlier attempt whose answer was lost is most likely that attempt's own removal (no other
            // write of the document by Bridge runs while this one is unresolved), though a manager's removal at the same
            // moment cannot be told from it; the evidence says which was seen.
            if (!answer.WasPresent)
            {
                how = "answered 404 after an earlier attempt whose answer was lost: taken as that attempt's removal (a removal by hand at the same moment cannot be told apart)";
            }
        }
        catch (ActivePlatformPermanentException refused) when (refused.AnAttemptMayHaveApplied)
        {
            // Any other refusal of a repeat after an attempt whose answer was lost says nothing about that attempt: read back
            // by key. Gone → this delete removed it (no other write of the document runs while this one is unresolved);
            // still there → the delete stays unresolved and is settled once the earlier attempt can no longer land.
            var still = await EffectReadBack.RunAsync(
                $"Delete of closing document '{message.Key}'",
                () => activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, ct));
            if (still is null)
            {
                // Read as this delete's removal, so the 404 must be the document's, not a token narrowed since it was confirmed.
                await EffectReadBack.RunAsync($"Delete of closing document '{message.Key}'", async () =>
                {
                    await activePlatform.ConfirmResellerReachableAsync(resellerId, ct);
                    return true;
                });
            }
            else
            {
                throw new EffectPendingException(
                    $"A delete of closing document '{message.Key}' ({existing.Id}) was refused ({refused.Status}) after an earlier attempt whose answer was lost, and the document is still found by key; it is settled once that attempt can no longer land.");
            }

            how = $"refused ({refused.Status}) after an earlier attempt whose answer was lost; the document is no longer found by key";
        }
        catch (Exception unapplied) when (EffectFailures.ProvesNotApplied(unapplied))
        {
            await journal.ResolveAsync(deleteId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(intent with { How = "answered: " + unapplied.Message }), CancellationToken.None);
            throw;
        }

        var deleted = intent with { Outcome = "Deleted", How = how };
        return new WorkResult(HandlingOutcome.Applied, Deleted(message, incoming, existing.Id, wasPresent: true), existing.Id, change)
        {
            Effects = [new EffectResolution(deleteId, attempt, EffectState.Applied, null, EffectEvidence.Of(deleted))],
        };
    }

    private ClosingDocumentDeleted Deleted(DeleteClosingDocument message, IncomingMessage incoming, string? externalInvoiceId, bool wasPresent) => new()
    {
        Key = message.Key,
        MessageId = incoming.IdempotencyKey!,
        CorrelationId = incoming.CorrelationId,
        OccurredAt = clock.GetUtcNow(),
        AccountId = message.AccountId,
        ExternalInvoiceId = externalInvoiceId,
        WasPresent = wasPresent,
    };

    private ClosingDocumentRejected Rejected(DeleteClosingDocument? message, IncomingMessage incoming, Rejection rejection)
        => ClosingDocumentRejections.Build(message?.Key, nameof(DeleteClosingDocument), incoming, rejection, clock);
}
