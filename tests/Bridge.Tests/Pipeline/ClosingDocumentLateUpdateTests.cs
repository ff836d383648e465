using Bridge.Contracts;
using Bridge.Sandbox;
using Bridge.Host.Features.ClosingDocuments;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// An update answered by the HTTP layer's repeat after its first attempt went unanswered: the first attempt may still be
/// carried out by ActivePlatform, writing that version again. The document's next version must not be written before that
/// attempt can no longer land, or the older version ends up in ActivePlatform while Bridge reports the newer one sent.
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class ClosingDocumentLateUpdateTests(PipelineFixture fixture)
{
    [Theory]
    [InlineData("clu-")]
    // The fixture's sandbox answers writes of documents keyed async-* with an async task, completed on its third poll: the
    // repeat is answered by a task, and the held attempt, once it lands, becomes a task of its own that ActivePlatform runs.
    [InlineData("async-clu-")]
    public async Task A_newer_version_is_not_written_while_an_unanswered_attempt_of_the_previous_update_may_still_land(string keyPrefix)
    {
        var prefix = $"bridge-clu-{Guid.NewGuid():N}"[..22];
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        var key = keyPrefix + Guid.NewGuid().ToString("D");
        var account = 9_800_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // In-flight window 18 s and polling deadline 2 s: the next version waits 20 s after the update whose first attempt went
                // unanswered.
                ["ActivePlatform:TotalTimeout"] = "00:00:15",
                ["ActivePlatform:AttemptTimeout"] = "00:00:03",
                ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:02",
            });

        try
        {
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Outcome == ClosingDocumentWriteOutcome.Created, TimeSpan.FromSeconds(120));

            // Version 2: its first PATCH attempt is answered 502 and held by the sandbox (a gateway gave up, the platform has
            // not carried it out yet); the HTTP layer's repeat is applied.
            await fixture.Sandbox.Control.SetFaultAsync(
                new FaultRule { Method = "PATCH", PathContains = documents, LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 2, accountId: account), NewId.NextGuid().ToString("D"));
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Outcome == ClosingDocumentWriteOutcome.Updated, TimeSpan.FromSeconds(120));
            Assert.True(await fixture.Sandbox.Control.GetPendingLateLandingsAsync(CancellationToken.None) == 1, "the first attempt of version 2 was never held");
            var holder = await fixture.ClaimedByAsync(ClosingDocumentScope.Of(1, account), key);

            // Version 3 arrives: it is either written at once (a second PATCH carried out), or waits behind the document's held claim.
            var third = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 3, accountId: account), third);
            var newerSent = PipelineTestData.EventuallyAsync(
                () => fixture.Sandbox.Control.GetCallsAsync("PATCH", documents, null, CancellationToken.None),
                calls => calls.Count(c => c.Fault is null) >= 2,
                TimeSpan.FromSeconds(120));
            var waiting = fixture.WaitingBehindAsync(third, ClosingDocumentScope.Of(1, account), key, holder);
            await Task.WhenAny(newerSent, waiting).WaitAsync(TimeSpan.FromSeconds(120));

            // The held attempt of version 2 lands now, within its window (answered with a task, the sandbox runs it to its end).
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            var landed = Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("PATCH", documents, null, CancellationToken.None), c => c.Fault == "landed-late");
            Assert.True(landed.Status is >= 200 and < 300, $"the held attempt landed with {landed.Status}");

            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.MessageId == third, TimeSpan.FromSeconds(120));
            var document = Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
            Assert.EndsWith(" r3", document.Name, StringComparison.Ordinal);
            Assert.NotNull(holder);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
        }
    }
}
