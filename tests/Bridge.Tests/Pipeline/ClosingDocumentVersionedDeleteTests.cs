using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Deletes and versions of one document arrive on different queues, so Bridge cannot know the ERP's order between them
/// unless the delete says where it stands. A delete that carries a version (<c>revision</c> or <c>modifiedAt</c>) is ordered
/// with the document's versions: the last word over every version not newer than it, whenever those arrive; skipped itself
/// when a newer version was already written. (helper-62: without a version, a version answered 429 before the delete and
/// retried after it created the document again; a create answered 503 before a delete the ERP sent first was skipped.)
/// </summary>
[Collection(PipelineCollection4.Name)]
public sealed class ClosingDocumentVersionedDeleteTests(PipelineFixture fixture)
{
    private static string Queue(string prefix) => $"{prefix}.{SendClosingDocumentConsumer.Queue}";

    private static string DeleteQueue(string prefix) => $"{prefix}.{DeleteClosingDocumentConsumer.Queue}";

    private static Dictionary<string, object?> Delete(long account, string key, long revision) => new() { ["accountId"] = account, ["key"] = key, ["revision"] = revision };

    private Task<IResultEvent> AnswerToAsync(string messageId)
        => fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));

    private async Task<IResultEvent> PublishAsync(string queue, Dictionary<string, object?> body)
    {
        var id = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(queue, body, id);
        return await AnswerToAsync(id);
    }

    private async Task<IReadOnlyList<SandboxExternalInvoice>> HeldAsync(string key)
        => [.. (await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None)).Where(d => d.Key == key)];

    [Fact]
    public void A_delete_with_a_negative_revision_is_invalid_and_one_without_a_version_is_valid()
    {
        Assert.Equal(["revision: must not be negative"], ClosingDocumentValidation.Validate(new DeleteClosingDocument { AccountId = 7, Key = "k", Revision = -1 }));
        Assert.Empty(ClosingDocumentValidation.Validate(new DeleteClosingDocument { AccountId = 7, Key = "k" }));
        Assert.Null(DocumentVersion.Of(new DeleteClosingDocument { AccountId = 7, Key = "k" }));
    }

    [Fact]
    public async Task A_version_not_newer_than_a_versioned_delete_is_skipped_whenever_it_arrives_and_a_newer_one_creates_the_document_again()
    {
        var prefix = fixture.QueuePrefix;
        var key = "vd-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);

        var first = Assert.IsType<ClosingDocumentSent>(await PublishAsync(Queue(prefix), Document(key, revision: 1, accountId: account)));
        var deleted = Assert.IsType<ClosingDocumentDeleted>(await PublishAsync(DeleteQueue(prefix), Delete(account, key, revision: 3)));
        Assert.True(deleted.WasPresent);
        Assert.Equal(first.ExternalInvoiceId, deleted.ExternalInvoiceId);

        // Revision 2, sent by the ERP before it deleted the document at revision 3, is delivered late: the deletion stands.
        // (Without the delete's version, revision 2 was newer than the last version written and created the document again.)
        var late = await PublishAsync(Queue(prefix), Document(key, revision: 2, accountId: account));
        Assert.Empty(await HeldAsync(key));
        var skipped = Assert.IsType<ClosingDocumentSkipped>(late);
        Assert.True(skipped.DeletedAfter);
        Assert.Equal("revision 2", skipped.SkippedVersion);
        Assert.Equal("revision 3", skipped.AppliedVersion);

        // Revision 3 again: the deletion's own version is not newer either.
        Assert.IsType<ClosingDocumentSkipped>(await PublishAsync(Queue(prefix), Document(key, revision: 3, accountId: account)));
        Assert.Empty(await HeldAsync(key));

        // Revision 4 comes after the deletion: the document is created again.
        var again = Assert.IsType<ClosingDocumentSent>(await PublishAsync(Queue(prefix), Document(key, revision: 4, accountId: account)));
        Assert.Equal(ClosingDocumentWriteOutcome.Created, again.Outcome);
        Assert.Equal(again.ExternalInvoiceId, Assert.Single(await HeldAsync(key)).Id);
    }

    [Fact]
    public async Task A_delete_whose_version_is_of_another_kind_than_the_documents_is_refused_and_deletes_nothing()
    {
        // helper-63: a delete with modifiedAt against versions ordered by revision could be compared with none of them; it
        // deleted the document and a late older revision then created it again.
        var prefix = fixture.QueuePrefix;
        var key = "vd-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);

        var first = Assert.IsType<ClosingDocumentSent>(await PublishAsync(Queue(prefix), Document(key, revision: 1, accountId: account)));
        var answer = await PublishAsync(DeleteQueue(prefix), new Dictionary<string, object?> { ["accountId"] = account, ["key"] = key, ["modifiedAt"] = "2026-11-30T10:30:00+00:00" });

        var refused = Assert.IsType<ClosingDocumentRejected>(answer);
        Assert.Equal(RejectionReason.InvalidMessage, refused.Reason);
        Assert.Contains(refused.ValidationErrors, e => e.StartsWith("revision:", StringComparison.Ordinal));
        Assert.Equal(first.ExternalInvoiceId, Assert.Single(await HeldAsync(key)).Id);
    }

    [Fact]
    public async Task A_delete_at_a_revision_is_the_last_word_over_that_revision_whatever_modification_time_it_carries()
    {
        // helper-63: revision 3 at 10:00 was applied; a delete at revision 3 kept the applied token (r3 at 10:00) and a
        // revision 3 at 10:15, delivered after the delete, was newer than that token: it created the document again.
        var prefix = fixture.QueuePrefix;
        var key = "vd-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);
        Dictionary<string, object?> Third(string at)
        {
            var body = Document(key, revision: 3, accountId: account);
            body["modifiedAt"] = at;
            return body;
        }

        Assert.IsType<ClosingDocumentSent>(await PublishAsync(Queue(prefix), Third("2026-11-30T10:00:00+00:00")));
        Assert.True(Assert.IsType<ClosingDocumentDeleted>(await PublishAsync(DeleteQueue(prefix), Delete(account, key, revision: 3))).WasPresent);

        var late = await PublishAsync(Queue(prefix), Third("2026-11-30T10:15:00+00:00"));
        Assert.Empty(await HeldAsync(key));
        Assert.True(Assert.IsType<ClosingDocumentSkipped>(late).DeletedAfter);
    }

    [Fact]
    public async Task A_delete_older_than_the_version_written_is_skipped_and_deletes_nothing()
    {
        var prefix = fixture.QueuePrefix;
        var key = "vd-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);

        await PublishAsync(Queue(prefix), Document(key, revision: 1, accountId: account));
        var third = Assert.IsType<ClosingDocumentSent>(await PublishAsync(Queue(prefix), Document(key, revision: 3, accountId: account)));

        // The ERP deleted the document at revision 2 and sent revision 3 after; the delete is delivered last.
        var answer = await PublishAsync(DeleteQueue(prefix), Delete(account, key, revision: 2));
        Assert.Equal(third.ExternalInvoiceId, Assert.Single(await HeldAsync(key)).Id);
        Assert.DoesNotContain(await fixture.Sandbox.Control.GetEffectsAsync(null, key, CancellationToken.None), e => e.Kind == EffectKinds.ExternalInvoiceDeleted);
        var skipped = Assert.IsType<ClosingDocumentSkipped>(answer);
        Assert.False(skipped.DeletedAfter);
        Assert.Equal("revision 2", skipped.SkippedVersion);
        Assert.Equal("revision 3", skipped.AppliedVersion);
        Assert.Equal(third.ExternalInvoiceId, skipped.ExternalInvoiceId);
    }

    [Fact]
    public async Task A_create_newer_than_a_versioned_delete_that_settled_it_is_sent_again_by_its_own_retry()
    {
        // The ERP deleted the document at revision 1 and sent revision 2 after. Revision 2's create is answered 503 (never
        // carried out); the delete, handled meanwhile, waits until the create can no longer land and finds nothing. The create
        // is newer than the deletion: its retry creates the document. (Without a version the delete comes after the create.)
        var prefix = $"bridge-vd-{Guid.NewGuid():N}"[..22];
        var key = "vd-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        var create = NewId.NextGuid().ToString("D");
        var delete = NewId.NextGuid().ToString("D");

        var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        try
        {
            await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = documents, FailNext = 1, ErrorStatus = 503 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account), create);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("POST", documents, null, CancellationToken.None), c => c.Any(x => x.Status == 503), TimeSpan.FromSeconds(60));

            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key, revision: 1), delete);
            Assert.False(Assert.IsType<ClosingDocumentDeleted>(await AnswerToAsync(delete)).WasPresent);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await parked.DisposeAsync();
        }

        await using var resumed = await fixture.StartBridgeAsync(prefix);
        var sent = Assert.IsType<ClosingDocumentSent>(await AnswerToAsync(create));
        Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        Assert.Equal(sent.ExternalInvoiceId, Assert.Single(await HeldAsync(key)).Id);
    }
}
