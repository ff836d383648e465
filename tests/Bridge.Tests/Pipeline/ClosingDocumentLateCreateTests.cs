using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A create answered 503 by a gateway that gave up on it may still be carried out by ActivePlatform. It was settled "not
/// applied" at once, so the retry looked the document up by key, found nothing yet, and created it again; deleted by the next
/// message, the document came back when the first create landed — ActivePlatform holding a document Bridge reported deleted.
/// A 503 now leaves the create unresolved like any other 5xx: nothing is sent again for the document until the create is
/// found by key or can no longer land, so the late create is this message's document.
/// </summary>
[Collection(PipelineCollection5.Name)]
public sealed class ClosingDocumentLateCreateTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_create_answered_503_is_not_sent_again_while_it_may_land_and_a_late_landing_is_found_as_its_document()
    {
        var prefix = $"bridge-clc-{Guid.NewGuid():N}"[..22];
        var key = "clc-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // The create may land for 30 + 2 + 2 s after its send (in-flight window and polling deadline): long enough
                // that the test lands it inside, however slow the machine.
                ["ActivePlatform:TotalTimeout"] = "00:00:30",
                ["ActivePlatform:AttemptTimeout"] = "00:00:02",
                ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:02",
            });

        try
        {
            await fixture.Sandbox.Control.SetFaultAsync(
                new FaultRule { Method = "POST", PathContains = documents, LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000, LostAnswerStatus = 503 },
                CancellationToken.None);
            var create = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", PipelineTestData.Document(key, revision: 1, accountId: account), create);
            await PipelineTestData.EventuallyAsync(
                () => fixture.Sandbox.Control.GetPendingLateLandingsAsync(CancellationToken.None), pending => pending == 1, TimeSpan.FromSeconds(60));
            var answered = Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", documents, null, CancellationToken.None));
            Assert.Equal(503, answered.Status);

            // The message is tried again: each retry looks the document up by key, finds nothing, and waits. (Before, the
            // first retry found nothing and created the document at once.)
            var sent = fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.MessageId == create, TimeSpan.FromSeconds(120));
            var lookedUpTwiceMore = PipelineTestData.EventuallyAsync(
                async () => (await fixture.Sandbox.Control.GetCallsAsync("GET", documents, null, CancellationToken.None)).Count(c => c.Sequence > answered.Sequence),
                lookups => lookups >= 2,
                TimeSpan.FromSeconds(60));
            await Task.WhenAny(sent, lookedUpTwiceMore).WaitAsync(TimeSpan.FromSeconds(120));
            Assert.False(sent.IsCompleted, "the create was reported sent while its first attempt could still land");
            Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", documents, null, CancellationToken.None));

            // The first create lands now: the retry finds it by key and reports it as this message's document.
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            var landed = Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
            var answer = await sent;
            Assert.Equal(ClosingDocumentWriteOutcome.Created, answer.Outcome);
            Assert.Equal(landed.Id, answer.ExternalInvoiceId);
            var posts = await fixture.Sandbox.Control.GetCallsAsync("POST", documents, null, CancellationToken.None);
            Assert.Equal(answered.Sequence, Assert.Single(posts, c => c.Fault != "landed-late").Sequence);
            Assert.Single(posts, c => c.Fault == "landed-late");

            // The ERP deletes it, and ActivePlatform holds what Bridge reported last: nothing.
            var delete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{DeleteClosingDocumentConsumer.Queue}", new Dictionary<string, object?> { ["accountId"] = account, ["key"] = key }, delete);
            var deleted = await fixture.Events.WaitForAsync<ClosingDocumentDeleted>(e => e.MessageId == delete, TimeSpan.FromSeconds(120));
            Assert.True(deleted.WasPresent);
            Assert.Equal(answer.ExternalInvoiceId, deleted.ExternalInvoiceId);
            Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
        }
    }
}
