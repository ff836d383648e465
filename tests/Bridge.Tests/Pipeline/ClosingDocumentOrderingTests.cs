using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Issue 7 (found by the chaos suite): a version of a closing document whose write's answer was lost must never be reported
/// sent — nor written — after a newer version or a delete of the same document was applied; a delete whose answer was lost
/// still reports the document it removed. Each case parks one message in a long retry delay (or stops its instance) so
/// that another message for the document runs in between, as a database stop or a kill does in a chaos run.
/// </summary>
[Collection(PipelineCollection4.Name)]
public sealed class ClosingDocumentOrderingTests(PipelineFixture fixture)
{
    private static readonly Dictionary<string, string?> ParkedRetries = new()
    {
        // A failed attempt waits ten minutes for its retry: whatever runs meanwhile runs in between.
        ["Bridge:Messaging:RetryLimit"] = "1",
        ["Bridge:Messaging:RetryMinInterval"] = "00:10:00",
        ["Bridge:Messaging:RetryMaxInterval"] = "00:10:00",

        // A lost answer reaches the handler (no HTTP-level retry). Each test's create was applied, so its read-back finds the
        // document and never waits out the in-flight window: the timeouts only bound a read-back, generously, because one
        // that times out on a busy machine parks the message that made it for the ten minutes above (seen: a delete's
        // read-back timed out after 1 s with the load at 11 on two cores, and the test waited in vain).
        ["ActivePlatform:RetryCount"] = "0",
        ["ActivePlatform:AttemptTimeout"] = "00:00:15",
        ["ActivePlatform:TotalTimeout"] = "00:00:30",
        ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:01",
    };

    private static string Queue(string prefix) => $"{prefix}.{SendClosingDocumentConsumer.Queue}";

    private static string DeleteQueue(string prefix) => $"{prefix}.{DeleteClosingDocumentConsumer.Queue}";

    private static long NewAccount() => 9_700_000 + Random.Shared.Next(100_000);

    private async Task<IResultEvent> AnswerToAsync(string messageId)
    {
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));
        return answer;
    }

    private async Task<IReadOnlyList<SandboxEffect>> WritesAsync(string key)
        => [.. (await fixture.Sandbox.Control.GetEffectsAsync(null, key, CancellationToken.None)).Where(e => e.Kind.StartsWith("external_invoice.", StringComparison.Ordinal))];

    [Fact]
    public async Task A_version_whose_create_answer_was_lost_is_skipped_when_a_newer_version_was_applied_before_its_retry()
    {
        var prefix = $"bridge-ord1-{Guid.NewGuid():N}"[..23];
        var key = "ord-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        var first = NewId.NextGuid().ToString("D");
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account, total: 10m), first);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None), c => c.Any(x => x.Status == 502));

            // Revision 2 runs while revision 1 waits for its retry: it finds the document revision 1 created and updates it.
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account, total: 20m), NewId.NextGuid().ToString("D"));
            var second = await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 2, TimeSpan.FromSeconds(120));
            Assert.Equal(ClosingDocumentWriteOutcome.Updated, second.Outcome);
            await parked.DisposeAsync();

            // Revision 1 comes back: its create was applied, but revision 2 is what ActivePlatform holds now.
            await using var resumed = await fixture.StartBridgeAsync(prefix);
            var answer = await AnswerToAsync(first);

            var skipped = Assert.IsType<ClosingDocumentSkipped>(answer);
            Assert.Equal("revision 1", skipped.SkippedVersion);
            Assert.Equal("revision 2", skipped.AppliedVersion);
            var document = Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
            Assert.Equal("20.0", document.Total);
            Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None));
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_version_whose_create_answer_was_lost_is_skipped_when_a_delete_removed_the_document_before_its_retry()
    {
        var prefix = $"bridge-ord2-{Guid.NewGuid():N}"[..23];
        var key = "ord-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        var first = NewId.NextGuid().ToString("D");
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), first);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None), c => c.Any(x => x.Status == 502));

            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), new Dictionary<string, object?> { ["accountId"] = account, ["key"] = key }, NewId.NextGuid().ToString("D"));
            var deleted = await fixture.Events.WaitForAsync<ClosingDocumentDeleted>(key, TimeSpan.FromSeconds(120));
            Assert.True(deleted.WasPresent);
            await parked.DisposeAsync();

            await using var resumed = await fixture.StartBridgeAsync(prefix);
            var answer = await AnswerToAsync(first);

            // Not "sent" with the id of a document the delete removed: the finance workflow would believe it is there.
            Assert.IsType<ClosingDocumentSkipped>(answer);
            Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_older_version_is_not_written_over_a_newer_update_whose_answer_was_lost()
    {
        var prefix = $"bridge-ord3-{Guid.NewGuid():N}"[..23];
        var key = "ord-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        var third = NewId.NextGuid().ToString("D");
        var late = NewId.NextGuid().ToString("D");

        var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account, total: 10m), NewId.NextGuid().ToString("D"));
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 1, TimeSpan.FromSeconds(120));

        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            // Revision 3's update is applied and its answer lost; it waits for its retry. Revision 2 arrives late meanwhile.
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 3, accountId: account, total: 30m), third);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("PATCH", $"/accounts/{account}/external_invoices", null, CancellationToken.None), c => c.Any(x => x.Status == 502));
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account, total: 20m), late);

            var answer = await AnswerToAsync(late);
            var skipped = Assert.IsType<ClosingDocumentSkipped>(answer);
            Assert.Equal("revision 3", skipped.AppliedVersion);
            Assert.DoesNotContain(await WritesAsync(key), w => w.Details.GetValueOrDefault("name")?.EndsWith(" r2", StringComparison.Ordinal) == true);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await parked.DisposeAsync();
        }

        // Revision 3 comes back and is reported sent; ActivePlatform holds it.
        await using var resumed = await fixture.StartBridgeAsync(prefix);
        var sent = Assert.IsType<ClosingDocumentSent>(await AnswerToAsync(third));
        Assert.Equal(3, sent.Revision);
        Assert.Equal("30.0", Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Total);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("0")]
    public async Task A_delete_whose_answer_was_lost_reports_the_document_it_removed(string httpRetries)
    {
        // With HTTP-level retries the repeated DELETE is answered 404; without them the message's retry finds nothing by
        // key. Either way the document was there and this delete removed it.
        var prefix = $"bridge-ord4-{Guid.NewGuid():N}"[..23];
        var key = "ord-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:RetryCount"] = httpRetries,
            ["ActivePlatform:RetryBaseDelay"] = "00:00:00.050",
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:02",
        });
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key, TimeSpan.FromSeconds(120));

        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "DELETE", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), new Dictionary<string, object?> { ["accountId"] = account, ["key"] = key }, NewId.NextGuid().ToString("D"));
            var deleted = await fixture.Events.WaitForAsync<ClosingDocumentDeleted>(key, TimeSpan.FromSeconds(120));

            Assert.True(deleted.WasPresent);
            Assert.Equal(sent.ExternalInvoiceId, deleted.ExternalInvoiceId);
            Assert.Single(await WritesAsync(key), w => w.Kind == EffectKinds.ExternalInvoiceDeleted);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
