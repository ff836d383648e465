using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A create answered 503 by a gateway that gave up on it may still be carried out by ActivePlatform: looking the document
/// up by key at once finds nothing, yet the create may land later. Sent again and deleted by the next message, the document
/// came back when the first create landed — ActivePlatform holding a document Bridge reported deleted.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ClosingDocumentLateCreateTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_delete_after_a_create_sent_again_on_a_503_waits_until_the_first_create_can_no_longer_land()
    {
        var prefix = $"bridge-clc-{Guid.NewGuid():N}"[..22];
        var key = "clc-" + Guid.NewGuid().ToString("D");
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // A create that succeeds after a 503 holds the document for 8 + 2 s (in-flight window and polling deadline).
                ["ActivePlatform:TotalTimeout"] = "00:00:06",
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

            // The create's retry finds nothing by key and creates the document.
            var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.MessageId == create, TimeSpan.FromSeconds(120));
            Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
            var holder = await fixture.ClaimedByAsync(ClosingDocumentScope.Of(1, account), key);

            // The ERP deletes it: the delete is either carried out at once, or waits behind the document's held claim.
            var delete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{DeleteClosingDocumentConsumer.Queue}", new Dictionary<string, object?> { ["accountId"] = account, ["key"] = key }, delete);
            var deleted = fixture.Events.WaitForAsync<ClosingDocumentDeleted>(e => e.MessageId == delete, TimeSpan.FromSeconds(120));
            var waiting = fixture.WaitingBehindAsync(delete, ClosingDocumentScope.Of(1, account), key, holder);
            await Task.WhenAny(deleted, waiting).WaitAsync(TimeSpan.FromSeconds(120));

            // The first create lands now.
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", documents, null, CancellationToken.None), c => c.Fault == "landed-late");

            // ActivePlatform holds what Bridge reported last: the document deleted.
            var answer = await deleted;
            Assert.True(answer.WasPresent);
            Assert.Equal(sent.ExternalInvoiceId, answer.ExternalInvoiceId);
            Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
            Assert.NotNull(holder);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
        }
    }
}
