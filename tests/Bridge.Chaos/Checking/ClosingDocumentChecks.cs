using System.Globalization;
using Bridge.Chaos.Generation;
using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Closing documents, per document (account + key), against the sandbox's ledger of writes and deletes:
/// <list type="bullet">
/// <item>every <c>ClosingDocumentSent</c> is backed by a write of that version to that document id (a <c>Created</c> by a create);</item>
/// <item>the versions written never go back (no older version over a newer one, deletes included);</item>
/// <item>a <c>ClosingDocumentSkipped</c> names an applied version that is newer (or the same) and was written — or, when it
/// says the document was deleted after that version, one a reported delete came after;</item>
/// <item>every delete in the ledger is explained by a <c>ClosingDocumentDeleted(wasPresent)</c> (or a dead-lettered delete), and every such event by a delete;</item>
/// <item>a valid message is never refused by ActivePlatform (e.g. "Key has already been taken": a second create);</item>
/// <item>when every message of the document is answered, ActivePlatform holds what the last success event says.</item>
/// </list>
/// </summary>
public sealed class ClosingDocumentChecks : IFlowCheck
{
    public IEnumerable<Violation> Check(MessageIndex index)
    {
        var documents = index.Run.Plan.Messages
            .Where(m => m.Flow == Flow.ClosingDocuments && m.Payload is SendClosingDocument or DeleteClosingDocument)
            .GroupBy(m => m.Subject, StringComparer.Ordinal);
        foreach (var document in documents)
        {
            foreach (var violation in CheckDocument(index, document.Key, [.. document]))
            {
                yield return violation;
            }
        }
    }

    private static IEnumerable<Violation> CheckDocument(MessageIndex index, string subject, List<PlannedMessage> messages)
    {
        var (accountId, key) = Target(messages[0].Payload!);
        var account = accountId.ToString(CultureInfo.InvariantCulture);
        var ledger = index.Run.Effects
            .Where(e => e.Kind.StartsWith("external_invoice.", StringComparison.Ordinal) && e.Subject == key && e.Details.GetValueOrDefault("accountId") == account)
            .OrderBy(e => e.Sequence)
            .ToList();
        var writes = ledger.Where(e => e.Kind != EffectKinds.ExternalInvoiceDeleted).ToList();
        var results = messages.Select(m => m.IdempotencyKey).Distinct(StringComparer.Ordinal)
            .SelectMany(k => index.Outcome(k).Results).Select(e => e.Event).OrderBy(e => e.OccurredAt).ToList();

        // Every success is backed by its write.
        foreach (var sent in results.OfType<ClosingDocumentSent>())
        {
            var names = Names(index, sent.MessageId);
            if (!writes.Any(w => w.Details["id"] == sent.ExternalInvoiceId && names.Contains(w.Details["name"]!)))
            {
                yield return new Violation(Invariants.EffectBehindSuccess, subject,
                    $"ClosingDocumentSent for {string.Join(" / ", names)} (document {sent.ExternalInvoiceId}) but ActivePlatform never received that version for that document", index.Members(sent.MessageId));
            }

            if (sent.Outcome == ClosingDocumentWriteOutcome.Created && !ledger.Any(e => e.Kind == EffectKinds.ExternalInvoiceCreated && e.Details["id"] == sent.ExternalInvoiceId))
            {
                yield return new Violation(Invariants.Figures, subject,
                    $"ClosingDocumentSent says Created, but ActivePlatform created no document {sent.ExternalInvoiceId}", index.Members(sent.MessageId));
            }
        }

        // Versions written never go back.
        var newest = 0;
        SandboxEffect? newestWrite = null;
        foreach (var write in writes)
        {
            var rank = ClosingDocumentScenarios.RankOf(write.Details["name"]) ?? 0;
            if (rank < newest)
            {
                yield return new Violation(Invariants.Ordering, subject,
                    $"version r{rank} written (effect #{write.Sequence}) after version r{newest} (effect #{newestWrite!.Sequence})", messages);
            }
            else
            {
                newest = rank;
                newestWrite = write;
            }
        }

        // A skip names a newer version that was written — or, deleted after, a version a delete Bridge reported came after
        // (one whose write was begun but whose answer was lost may never have reached ActivePlatform; the delete did).
        foreach (var skipped in results.OfType<ClosingDocumentSkipped>())
        {
            var skippedRank = RankOfVersion(skipped.SkippedVersion);
            var appliedRank = RankOfVersion(skipped.AppliedVersion);
            // The same version again (a republish) may be answered as skipped too: it is already there.
            var backed = skipped.DeletedAfter
                ? results.OfType<ClosingDocumentDeleted>().Any() && skipped.ExternalInvoiceId is null
                : writes.Any(w => ClosingDocumentScenarios.RankOf(w.Details["name"]) == appliedRank);
            if (appliedRank is null || skippedRank is null || appliedRank < skippedRank || !backed)
            {
                var why = skipped.DeletedAfter ? "deleted after, with no delete reported" : "which ActivePlatform never received or is older";
                yield return new Violation(Invariants.Ordering, subject,
                    $"skipped as {skipped.SkippedVersion} older than {skipped.AppliedVersion}, {why}", index.Members(skipped.MessageId));
            }
        }

        // A delete answered after a newer version created the document again names that version, which was reported sent as
        // another document than the one the delete removed.
        foreach (var deleted in results.OfType<ClosingDocumentDeleted>().Where(d => d.SupersededBy is not null))
        {
            var rank = RankOfVersion(deleted.SupersededBy!);
            if (rank is null || !results.OfType<ClosingDocumentSent>().Any(s => SentRank(s) == rank && s.ExternalInvoiceId != deleted.ExternalInvoiceId))
            {
                yield return new Violation(Invariants.Ordering, subject,
                    $"ClosingDocumentDeleted says {deleted.SupersededBy} was written after it, but no such version was reported sent as a new document", index.Members(deleted.MessageId));
            }
        }

        // Deletes and their events explain each other.
        var deletedEvents = results.OfType<ClosingDocumentDeleted>().ToList();
        var unsettledDelete = messages.Any(m => m.Payload is DeleteClosingDocument && index.Outcome(m).Result is null);
        foreach (var delete in ledger.Where(e => e.Kind == EffectKinds.ExternalInvoiceDeleted))
        {
            var explained = deletedEvents.Count(d => d.WasPresent && d.ExternalInvoiceId == delete.Details["id"]);
            if (explained == 0 && !unsettledDelete)
            {
                yield return new Violation(Invariants.EffectCount, subject,
                    $"document {delete.Details["id"]} deleted (effect #{delete.Sequence}) with no ClosingDocumentDeleted(wasPresent) saying so", messages);
            }
        }

        foreach (var deleted in deletedEvents.Where(d => d.WasPresent))
        {
            if (!ledger.Any(e => e.Kind == EffectKinds.ExternalInvoiceDeleted && e.Details["id"] == deleted.ExternalInvoiceId))
            {
                yield return new Violation(Invariants.EffectBehindSuccess, subject,
                    $"ClosingDocumentDeleted(wasPresent) for document {deleted.ExternalInvoiceId}, which ActivePlatform never deleted", index.Members(deleted.MessageId));
            }
        }

        // A valid message is never refused by ActivePlatform.
        foreach (var message in messages.Where(m => Expectations.Of(index, m) == Expectation.Valid))
        {
            if (index.Outcome(message).Result is ClosingDocumentRejected { Reason: RejectionReason.RejectedByActivePlatform } refused)
            {
                yield return new Violation(Invariants.RightOutcome, subject,
                    $"a valid {message.MessageType} (#{message.Ordinal}) was refused by ActivePlatform: {refused.ActivePlatformError?.Title ?? refused.Description}", messages);
            }
        }

        // A delete that carries a version newer than every version of the document is the last word, whatever order the
        // messages arrived in: once everything is answered, ActivePlatform holds no document for the key, and no version was
        // reported sent after the delete was answered.
        var lastVersion = messages.Select(m => m.Payload).OfType<SendClosingDocument>().Select(ClosingDocumentScenarios.RankOf).DefaultIfEmpty(0).Max();
        var versionedDelete = messages.FirstOrDefault(m => m.Payload is DeleteClosingDocument d && DeleteRank(d) > lastVersion);
        if (versionedDelete is not null && messages.All(m => index.Outcome(m).Result is not null))
        {
            var held = index.Run.Sandbox.Documents.Where(d => d.Key == key && d.AccountId == accountId).ToList();
            if (held.Count > 0)
            {
                yield return new Violation(Invariants.Ordering, subject,
                    $"a delete at a version newer than every version (#{versionedDelete.Ordinal}) was not the last word: ActivePlatform holds {Describe(held)}", messages);
            }

            if (index.Outcome(versionedDelete).Result is ClosingDocumentDeleted answered
                && results.OfType<ClosingDocumentSent>().FirstOrDefault(s => s.OccurredAt > answered.OccurredAt) is { } after)
            {
                yield return new Violation(Invariants.Ordering, subject,
                    $"version {after.Revision?.ToString(CultureInfo.InvariantCulture) ?? after.ModifiedAt?.ToString("O", CultureInfo.InvariantCulture)} reported sent after a delete at a version newer than every version", messages);
            }
        }

        // Once everything is answered, ActivePlatform holds what the last success says.
        if (messages.All(m => index.Outcome(m).Result is not null))
        {
            // A delete that names a version written after it is not the last word, whenever its answer came.
            var last = results.LastOrDefault(e => e is ClosingDocumentSent or ClosingDocumentDeleted { SupersededBy: null });
            var held = index.Run.Sandbox.Documents.Where(d => d.Key == key && d.AccountId == accountId).ToList();
            switch (last)
            {
                case ClosingDocumentSent sent:
                    // Bridge orders a document's writes by version: two different payloads for one version (an ERP's error,
                    // e.g. another payload under a used id, and the first one republished under a new id) are the same write
                    // to it, ActivePlatform holds whichever went last, and their events need not arrive in that order (chaos
                    // seed 1242: a create's event, delayed by a kill, came after the other payload's update). Any payload
                    // reported sent for the last success's version will do.
                    var sameVersion = results.OfType<ClosingDocumentSent>()
                        .Where(s => s.Revision == sent.Revision && s.ModifiedAt == sent.ModifiedAt && s.ExternalInvoiceId == sent.ExternalInvoiceId)
                        .Select(s => s.MessageId).Distinct().ToList();
                    var names = sameVersion.SelectMany(id => Names(index, id)).ToHashSet();
                    if (held.Count != 1 || held[0].Id != sent.ExternalInvoiceId || !names.Contains(held[0].Name))
                    {
                        yield return new Violation(Invariants.Figures, subject,
                            $"the last success was ClosingDocumentSent({string.Join(" / ", names)}, document {sent.ExternalInvoiceId}); ActivePlatform holds {Describe(held)}", messages);
                    }
                    else if (sameVersion.SelectMany(id => Totals(index, id)).All(t => t != decimal.Parse(held[0].Total, CultureInfo.InvariantCulture)))
                    {
                        yield return new Violation(Invariants.Figures, subject,
                            $"document {held[0].Id} holds total {held[0].Total}, not the total of the version reported sent", messages);
                    }

                    break;
                case ClosingDocumentDeleted:
                    if (held.Count > 0)
                    {
                        yield return new Violation(Invariants.Figures, subject, $"the last success was a delete; ActivePlatform still holds {Describe(held)}", messages);
                    }

                    break;
                default:
                    if (held.Count > 0 && !results.OfType<ClosingDocumentSkipped>().Any())
                    {
                        yield return new Violation(Invariants.EffectCount, subject, $"no version was reported sent, yet ActivePlatform holds {Describe(held)}", messages);
                    }

                    break;
            }
        }
    }

    /// <summary>The rank of a delete's version (as <see cref="ClosingDocumentScenarios.RankOf(SendClosingDocument)"/>); 0 without one.</summary>
    private static int DeleteRank(DeleteClosingDocument delete) =>
        delete.Revision is { } revision ? (int)revision : delete.ModifiedAt is { } at ? ClosingDocumentScenarios.RankOf(at) : 0;

    private static (long AccountId, string Key) Target(object payload) => payload switch
    {
        SendClosingDocument send => (send.AccountId, send.Key),
        DeleteClosingDocument delete => (delete.AccountId, delete.Key),
        _ => throw new ArgumentException("not a closing-document message", nameof(payload)),
    };

    /// <summary>The names the messages under one key carry (more than one for a conflict).</summary>
    private static HashSet<string> Names(MessageIndex index, string key) =>
        [.. index.Members(key).Select(m => m.Payload).OfType<SendClosingDocument>().Select(s => s.Name)];

    private static IEnumerable<decimal> Totals(MessageIndex index, string key) =>
        index.Members(key).Select(m => m.Payload).OfType<SendClosingDocument>().Select(s => s.Amount.Total);

    /// <summary>"revision 3" → 3; "modified at …" → minutes after the generator's base time.</summary>
    private static int? SentRank(ClosingDocumentSent sent) =>
        sent.Revision is { } revision ? (int)revision : sent.ModifiedAt is { } at ? ClosingDocumentScenarios.RankOf(at) : null;

    private static int? RankOfVersion(string version)
    {
        if (version.StartsWith("revision ", StringComparison.Ordinal))
        {
            return int.TryParse(version.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ? revision : null;
        }

        return version.StartsWith("modified at ", StringComparison.Ordinal)
            && DateTimeOffset.TryParse(version.AsSpan(12), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
            ? ClosingDocumentScenarios.RankOf(at)
            : null;
    }

    private static string Describe(IReadOnlyList<SandboxExternalInvoice> held) =>
        held.Count == 0 ? "no document" : string.Join(", ", held.Select(d => $"document {d.Id} '{d.Name}' total {d.Total}"));
}
