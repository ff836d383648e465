using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A delete handled while a write of the document had no clear answer (answered 5xx, or its instance killed after it was
/// journaled) waits until that write can no longer land, settles it, and deletes: the delete comes after that write. The
/// write's own message, retried afterwards, must neither bring the document back (helper-59: the create's retry created it
/// again after the delete reported it absent) nor report a version ActivePlatform never received as applied (the chaos
/// smoke run, seed 20261201: "skipped as r4 older than r4, which ActivePlatform never received").
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ClosingDocumentDeleteAfterUnknownWriteTests(PipelineFixture fixture)
{
    private static string Queue(string prefix) => $"{prefix}.{SendClosingDocumentConsumer.Queue}";

    private static string DeleteQueue(string prefix) => $"{prefix}.{DeleteClosingDocumentConsumer.Queue}";

    private static Dictionary<string, object?> Delete(long account, string key) => new() { ["accountId"] = account, ["key"] = key };

    private Task<IResultEvent> AnswerToAsync(string messageId)
        => fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));

    private async Task<IReadOnlyList<SandboxEffect>> WritesAsync(string key)
        => [.. (await fixture.Sandbox.Control.GetEffectsAsync(null, key, CancellationToken.None)).Where(e => e.Kind.StartsWith("external_invoice.", StringComparison.Ordinal))];

    [Fact]
    public async Task A_create_answered_503_and_settled_by_a_delete_is_not_sent_again_by_its_own_retry()
    {
        var prefix = $"bridge-dau-{Guid.NewGuid():N}"[..22];
        var key = "dau-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        var create = NewId.NextGuid().ToString("D");
        var delete = NewId.NextGuid().ToString("D");

        var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        try
        {
            // The create is answered 503 and never carried out: its outcome is unknown, and its message waits ten minutes.
            await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = documents, FailNext = 1, ErrorStatus = 503 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), create);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("POST", documents, null, CancellationToken.None), c => c.Any(x => x.Status == 503), TimeSpan.FromSeconds(60));

            // The delete waits until the create can no longer land, finds nothing, and says so.
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key), delete);
            var deleted = Assert.IsType<ClosingDocumentDeleted>(await AnswerToAsync(delete));
            Assert.False(deleted.WasPresent);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await parked.DisposeAsync();
        }

        // The create's own retry: the delete came after it, so it must not create the document now.
        await using var resumed = await fixture.StartBridgeAsync(prefix);
        var answer = await AnswerToAsync(create);
        Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        Assert.Empty(await WritesAsync(key));
        var skipped = Assert.IsType<ClosingDocumentSkipped>(answer);
        Assert.True(skipped.DeletedAfter, "the skip does not say the document was deleted after this version");
        Assert.Null(skipped.ExternalInvoiceId);
        Assert.Equal("revision 1", skipped.AppliedVersion);
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", documents, null, CancellationToken.None));
    }

    [Fact]
    public async Task An_older_version_arriving_while_the_delete_that_settled_a_create_is_retried_is_skipped_as_deleted_after()
    {
        // helper-62: the delete settles revision 2's create (counted as written) and then fails before it completes; an older
        // revision 1 arriving meanwhile must not be told that revision 2, which ActivePlatform never received, is applied.
        var prefix = $"bridge-dau-{Guid.NewGuid():N}"[..22];
        var key = "dau-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        var create = NewId.NextGuid().ToString("D");
        var delete = NewId.NextGuid().ToString("D");
        var older = NewId.NextGuid().ToString("D");

        var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        try
        {
            await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = documents, FailNext = 1, ErrorStatus = 503 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account), create);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("POST", documents, null, CancellationToken.None), c => c.Any(x => x.Status == 503), TimeSpan.FromSeconds(60));

            // The delete settles the create, finds nothing, and its confirmation that the reseller is reachable (which an
            // answer "absent" needs) is answered 503: it waits ten minutes.
            var probes = $"/resellers/1/subscriptions";
            var probesBefore = (await fixture.Sandbox.Control.GetCallsAsync("GET", probes, null, CancellationToken.None)).Count;
            await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "GET", PathContains = probes, FailNext = 1, ErrorStatus = 503 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key), delete);
            await EventuallyAsync(
                () => fixture.Sandbox.Control.GetCallsAsync("GET", probes, null, CancellationToken.None),
                c => c.Skip(probesBefore).Any(x => x.Status == 503),
                TimeSpan.FromSeconds(90));

            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), older);
            var skipped = Assert.IsType<ClosingDocumentSkipped>(await AnswerToAsync(older));
            Assert.Equal("revision 2", skipped.AppliedVersion);
            Assert.True(skipped.DeletedAfter, "revision 1 was skipped as older than revision 2, which ActivePlatform never received, without saying a delete came after it");
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await parked.DisposeAsync();
        }

        await using var resumed = await fixture.StartBridgeAsync(prefix);
        Assert.False(Assert.IsType<ClosingDocumentDeleted>(await AnswerToAsync(delete)).WasPresent);
        Assert.True(Assert.IsType<ClosingDocumentSkipped>(await AnswerToAsync(create)).DeletedAfter);
        Assert.Empty(await WritesAsync(key));
    }

    /// <summary>
    /// Chaos seed 1252: a delete's answer was lost (a gateway's 502 for a DELETE carried out); the next version's message
    /// settled it (the document gone by key: the delete's removal) and created the document again; the delete's own retry
    /// then answered <see cref="ClosingDocumentDeleted"/> after that version's <see cref="ClosingDocumentSent"/>, and a
    /// subscriber reading the last answer took the document for deleted while ActivePlatform held the newer version. The
    /// answer still says what the delete did, and names the version written after it.
    /// </summary>
    [Fact]
    public async Task A_delete_answered_after_a_newer_version_created_the_document_again_names_that_version()
    {
        var prefix = $"bridge-dau-{Guid.NewGuid():N}"[..22];
        var key = "dau-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        var delete = NewId.NextGuid().ToString("D");
        var newer = NewId.NextGuid().ToString("D");

        var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        ClosingDocumentSent created;
        ClosingDocumentSent recreated;
        try
        {
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            created = await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 1, TimeSpan.FromSeconds(120));

            // The DELETE is answered 502 at once and held by the sandbox; the delete's retry waits ten minutes. Then it lands.
            await fixture.Sandbox.Control.SetFaultAsync(
                new FaultRule { Method = "DELETE", PathContains = documents, LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000, LostAnswerStatus = 502 },
                CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key), delete);
            await EventuallyAsync(
                () => fixture.Sandbox.Control.GetPendingLateLandingsAsync(CancellationToken.None), pending => pending == 1, TimeSpan.FromSeconds(60));
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);

            // Revision 2 settles the delete (gone by key) and creates the document again.
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account), newer);
            recreated = Assert.IsType<ClosingDocumentSent>(await AnswerToAsync(newer));
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await parked.DisposeAsync();
        }

        // The delete's own retry answers what it did, after revision 2's answer, and says revision 2 came after it.
        await using var resumed = await fixture.StartBridgeAsync(prefix);
        var deleted = Assert.IsType<ClosingDocumentDeleted>(await AnswerToAsync(delete));
        Assert.True(deleted.WasPresent);
        Assert.Equal(created.ExternalInvoiceId, deleted.ExternalInvoiceId);
        Assert.Equal("revision 2", deleted.SupersededBy);
        var held = Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        Assert.Equal(recreated.ExternalInvoiceId, held.Id);
    }

    [Fact]
    public async Task An_update_answered_503_and_settled_by_a_delete_is_skipped_as_deleted_after_not_as_applied()
    {
        var prefix = $"bridge-dau-{Guid.NewGuid():N}"[..22];
        var key = "dau-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        var update = NewId.NextGuid().ToString("D");
        var delete = NewId.NextGuid().ToString("D");

        var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        ClosingDocumentSent first;
        try
        {
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            first = await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 1, TimeSpan.FromSeconds(120));

            // Revision 2's update is answered 503 and never carried out: whether it applied cannot be told.
            await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = documents, FailNext = 1, ErrorStatus = 503 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account), update);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("PATCH", documents, null, CancellationToken.None), c => c.Any(x => x.Status == 503), TimeSpan.FromSeconds(60));

            // The delete waits until the update can no longer land, counts it as written, and removes revision 1's document.
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key), delete);
            var deleted = Assert.IsType<ClosingDocumentDeleted>(await AnswerToAsync(delete));
            Assert.True(deleted.WasPresent);
            Assert.Equal(first.ExternalInvoiceId, deleted.ExternalInvoiceId);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await parked.DisposeAsync();
        }

        // Revision 2's own retry: the delete came after it. It is skipped — and says the document was deleted after it, since
        // ActivePlatform never received revision 2.
        await using var resumed = await fixture.StartBridgeAsync(prefix);
        var skipped = Assert.IsType<ClosingDocumentSkipped>(await AnswerToAsync(update));
        Assert.DoesNotContain(await WritesAsync(key), w => w.Details.GetValueOrDefault("name")?.EndsWith(" r2", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        Assert.True(skipped.DeletedAfter, "the skip reports revision 2 as applied, which ActivePlatform never received, without saying a delete came after it");
        Assert.Equal("revision 2", skipped.AppliedVersion);
        Assert.Null(skipped.ExternalInvoiceId);

        var state = await resumed.Get<IDocumentStateStore>().GetAsync(ClosingDocumentScope.Of(1, account), key, CancellationToken.None);
        Assert.True(state!.Deleted);
    }
}
