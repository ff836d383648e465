using Bridge.Contracts;
using Bridge.Host.Features.Invoices;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// An invoice call journals nothing first. When a retry of the message succeeded after an attempt that went unanswered (a
/// gateway's 503 for a call the platform then carries out), that attempt may still land: the invoice's next message must not
/// be sent before it can no longer land, or the late call undoes it (chaos seed 1242: a late approval after a revoke).
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class InvoiceLateLandingTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_revoke_waits_until_an_unanswered_attempt_of_the_approval_it_follows_can_no_longer_land()
    {
        var prefix = $"bridge-ill-{Guid.NewGuid():N}"[..22];
        var documentId = $"NS-{Guid.NewGuid():N}"[..20];
        var invoice = await fixture.Sandbox.Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = 94_000 + Random.Shared.Next(1_000), BillingDate = new DateOnly(2026, 10, 1), Total = 120m },
            CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // In-flight window 15 + 3 = 18 s: the revoke waits that long after the approval.
                ["ActivePlatform:TotalTimeout"] = "00:00:15",
                ["ActivePlatform:AttemptTimeout"] = "00:00:03",
            });

        try
        {
            // The approval's first call is answered 503 at once and held by the sandbox: the platform has not carried it out
            // yet. The message's retry approves.
            await fixture.Sandbox.Control.SetFaultAsync(
                new FaultRule { Method = "POST", PathContains = $"/invoices/{invoice.Id}/approve", LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000, LostAnswerStatus = 503 },
                CancellationToken.None);
            var approve = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id }, approve);
            await fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == approve, TimeSpan.FromSeconds(120));
            await PipelineTestData.EventuallyAsync(
                () => fixture.Sandbox.Control.GetPendingLateLandingsAsync(CancellationToken.None), pending => pending == 1, TimeSpan.FromSeconds(60));
            var holder = await fixture.ClaimedByAsync("invoice:1", documentId);

            // The ERP revokes: it is either sent at once, or waits behind the invoice's held claim.
            var revoke = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{RevokeInvoiceApprovalConsumer.Queue}", new { documentId, billingDate = "2026-10-01" }, revoke);
            var revoked = fixture.Events.WaitForAsync<InvoiceApprovalRevoked>(e => e.MessageId == revoke, TimeSpan.FromSeconds(120));
            var waiting = fixture.WaitingBehindAsync(revoke, "invoice:1", documentId, holder);
            await Task.WhenAny(revoked, waiting).WaitAsync(TimeSpan.FromSeconds(120));

            // The held approval lands now, within its window.
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            var landed = Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/invoices/{invoice.Id}/approve", null, CancellationToken.None), c => c.Fault == "landed-late");
            Assert.True(landed.Status is >= 200 and < 300, $"the held approval landed with {landed.Status}");

            // ActivePlatform holds what Bridge reported last: revoked.
            await revoked;
            var state = Assert.Single(await fixture.Sandbox.Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == invoice.Id);
            Assert.False(state.Approved, "the approval's late call landed after the revoke");
            Assert.NotNull(holder);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
        }
    }
}
