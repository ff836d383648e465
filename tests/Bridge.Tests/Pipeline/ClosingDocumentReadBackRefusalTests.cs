using Bridge.ActivePlatform;
using Bridge.Host.Effects;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Settling an open closing-document write reads the document back; a refused read-back says nothing about the write. It
/// keeps the write open (retried), never becomes a rejection of the write (issue 7, leftovers).
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ClosingDocumentReadBackRefusalTests(PipelineFixture fixture)
{
    private static readonly Dictionary<string, string?> ParkedRetries = new()
    {
        ["ActivePlatform:RetryCount"] = "0",
        ["ActivePlatform:AttemptTimeout"] = "00:00:05",
        ["ActivePlatform:TotalTimeout"] = "00:00:10",
        ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:01",
        ["Bridge:Messaging:RetryLimit"] = "1",
        ["Bridge:Messaging:RetryMinInterval"] = "00:10:00",
        ["Bridge:Messaging:RetryMaxInterval"] = "00:10:00",
    };

    private static string Queue(string prefix) => $"{prefix}.{SendClosingDocumentConsumer.Queue}";

    private static long NewAccount() => 9_900_000 + Random.Shared.Next(100_000);

    [Theory]
    [InlineData(400)]
    [InlineData(422)]
    public async Task A_refused_read_back_while_settling_an_open_write_keeps_it_open_and_is_never_a_refusal_of_the_write(int readBackAnsweredWith)
    {
        // A create is applied and its answer lost; the message is parked (its next retry is minutes away). Settling the open
        // create reads the document back by key, and that GET is refused.
        var prefix = $"bridge-ur3-{Guid.NewGuid():N}"[..22];
        var key = "ur-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        await using var bridge = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None), c => c.Any(x => x.Status == 502));
            var writes = bridge.Get<ClosingDocumentWrites>();
            await EventuallyAsync(() => bridge.Get<IEffectJournal>().FindOpenAsync(ClosingDocumentWrites.Scope(1, account), key, CancellationToken.None), open => open is not null);

            await fixture.Sandbox.Control.SetFaultAsync(
                new FaultRule { Method = "GET", PathContains = $"/accounts/{account}/external_invoices", FailNext = 1, ErrorStatus = readBackAnsweredWith },
                CancellationToken.None);
            var failed = await Assert.ThrowsAsync<EffectReadBackFailedException>(() => writes.SettleOpenWriteAsync(1, account, key, CancellationToken.None));
            Assert.IsAssignableFrom<ActivePlatformException>(failed.InnerException);
            Assert.NotNull(await bridge.Get<IEffectJournal>().FindOpenAsync(ClosingDocumentWrites.Scope(1, account), key, CancellationToken.None));

            // Once the read-back is answered, the same settling finds the document the create made.
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            var settled = await writes.SettleOpenWriteAsync(1, account, key, CancellationToken.None);
            Assert.Equal(EffectState.Applied, settled!.State);
            Assert.Equal(Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Id, settled.ResourceId);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
