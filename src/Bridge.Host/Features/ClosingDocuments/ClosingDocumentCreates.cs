using Bridge.ActivePlatform;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>What a create's journal entry records: the version it writes and, once known, the document it made.</summary>
public sealed record DocumentCreate(string Version, string? Outcome = null, string? ExternalInvoiceId = null, string? How = null, string? FailureMessage = null);

/// <summary>
/// Creates of closing documents as effects of the document, not of the message (issue 7, defect 2): ActivePlatform finds
/// a document by its ERP key only once a create has completed, so while a create's outcome is unknown (an async task still
/// running, an answer lost, an instance killed) every message for that key — a retry, a republish, a newer revision, a
/// delete — first settles that create, and nothing POSTs a second one in the meantime.
/// </summary>
public sealed class ClosingDocumentCreates(
    IEffectJournal journal,
    IDocumentStateStore documents,
    IActivePlatformClient activePlatform,
    ActivePlatformAsyncTaskPoller poller,
    IOptions<ActivePlatformOptions> activePlatformOptions)
{
    public static string Scope(long resellerId, long accountId) => FormattableString.Invariant($"closing-document-create:{resellerId}:{accountId}");

    public static EffectId Id(long resellerId, long accountId, string documentKey, string idempotencyKey)
        => new(Scope(resellerId, accountId), documentKey + "\n" + idempotencyKey, documentKey);

    /// <summary>
    /// Settles the document's unresolved create, if it has one, and returns it as settled (null when there was none).
    /// Throws <see cref="EffectPendingException"/> while its outcome cannot be known yet (an answer lost less than the
    /// polling deadline ago): the message waits, as for a busy document.
    /// </summary>
    public async Task<EffectEntry?> SettleOpenCreateAsync(long resellerId, long accountId, string documentKey, CancellationToken cancellationToken)
    {
        var open = await journal.FindOpenAsync(Scope(resellerId, accountId), documentKey, cancellationToken);
        if (open is null)
        {
            return null;
        }

        var create = open.EvidenceAs<DocumentCreate>() ?? new DocumentCreate("");
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
            catch (ActivePlatformPermanentException gone) when (gone.Status == 404)
            {
                // The task expired (issue 7, defect 11): it ended long ago, so the document is there or never will be.
            }

            var written = await activePlatform.FindClosingDocumentAsync(resellerId, accountId, documentKey, cancellationToken);
            return written is null
                ? await ResolveAsync(open, EffectState.NotApplied, null, create with { How = $"async task {taskId} ended and no document has key '{documentKey}'" })
                : await ResolveAsync(open, EffectState.Applied, written.Id, create with { ExternalInvoiceId = written.Id, How = $"async task {taskId} ended; found by key" });
        }

        // Sent, and its answer never recorded: the create may still be an async task ActivePlatform is working on.
        var appeared = await activePlatform.FindClosingDocumentAsync(resellerId, accountId, documentKey, cancellationToken);
        if (appeared is not null)
        {
            return await ResolveAsync(open, EffectState.Applied, appeared.Id, create with { ExternalInvoiceId = appeared.Id, How = "answer lost; found by key" });
        }

        var deadline = activePlatformOptions.Value.AsyncTaskPolling.Deadline;
        if (open.SinceSent < deadline)
        {
            throw new EffectPendingException(
                $"A create of closing document '{documentKey}' was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; waiting up to {deadline.TotalSeconds:0} s for it to appear before sending it again.");
        }

        return await ResolveAsync(open, EffectState.NotApplied, null, create with { How = $"answer lost; no document with key '{documentKey}' after the polling deadline ({deadline})" });
    }

    private async Task<EffectEntry> ResolveAsync(EffectEntry open, EffectState state, string? id, DocumentCreate evidence)
    {
        try
        {
            await journal.ResolveAsync(open.Id, open.Attempt, state, id, EffectEvidence.Of(evidence), CancellationToken.None);
        }
        catch (System.Data.Common.DbException ex) when (SqlValues.IsUniqueViolation(ex))
        {
            // The document found by key is already another create's: which create made it cannot be told.
            state = EffectState.Unknown;
            id = null;
            evidence = evidence with { How = $"found document {evidence.ExternalInvoiceId} by key, but it already belongs to another create" };
            await journal.ResolveAsync(open.Id, open.Attempt, state, null, EffectEvidence.Of(evidence), CancellationToken.None);
        }

        if (state == EffectState.Applied && evidence.Version.Length > 0)
        {
            // The document now holds that create's version: an older message must be skipped, not written over it.
            var scope = ClosingDocumentScope.Of(ResellerOf(open.Id.Scope), AccountOf(open.Id.Scope));
            var current = await documents.GetAsync(scope, open.Id.Group, CancellationToken.None);
            if (!DocumentVersion.IsOlder(evidence.Version, current?.AppliedVersion))
            {
                await documents.SetAppliedNowAsync(scope, open.Id.Group, evidence.Version, id, CancellationToken.None);
            }
        }

        return open with { State = state, ResourceId = id ?? open.ResourceId, Evidence = EffectEvidence.Of(evidence) };
    }

    private static long ResellerOf(string scope) => long.Parse(scope.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

    private static long AccountOf(string scope) => long.Parse(scope.Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);
}
