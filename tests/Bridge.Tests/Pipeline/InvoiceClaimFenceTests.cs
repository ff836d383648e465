using System.Data.Common;
using Bridge.ActivePlatform.Invoices;
using Bridge.Contracts;
using Bridge.Host.Features.Invoices;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// An invoice's approve, complete or revoke is decided on the document's state read with its claim, and journals nothing
/// before the call: it must be sent only while that claim has been held since. A delivery that stalled past its lease must
/// not send what it decided after other deliveries changed the invoice meanwhile.
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class InvoiceClaimFenceTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_stale_approval_is_not_sent_after_a_redelivery_approved_and_a_revoke_revoked()
    {
        var prefix = $"bridge-icf-{Guid.NewGuid():N}"[..22];
        var documentId = $"NS-{Guid.NewGuid():N}"[..20];
        var invoice = await fixture.Sandbox.Control.SeedInvoiceAsync(
            new SandboxInvoiceSeed { AccountId = 93_000 + Random.Shared.Next(1_000), BillingDate = new DateOnly(2026, 10, 1), Total = 120m },
            CancellationToken.None);
        var stall = new StallBeforeSend("invoice:1", documentId);
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // So long that no renewal by the heartbeat comes during the test: the first renewal is the one before the send.
                ["Bridge:Idempotency:DocumentClaimLease"] = "00:10:00",

                // The redelivery's approval holds the invoice for the in-flight window (an earlier delivery may have sent the
                // approval): 3 + 2 s, so that the revoke after it waits only that long.
                ["ActivePlatform:TotalTimeout"] = "00:00:03",
                ["ActivePlatform:AttemptTimeout"] = "00:00:02",
            },
            services =>
            {
                services.AddSingleton<IDocumentStateStore>(sp => stall.Around(ActivatorUtilities.CreateInstance<SqlDocumentStateStore>(sp)));
                services.AddTransient<IInvoicesClient>(sp => stall.Around(ActivatorUtilities.CreateInstance<InvoicesClient>(sp)));
            });

        try
        {
            var approve = NewId.NextGuid().ToString("D");
            var body = new { documentId, billingDate = "2026-10-01", invoiceId = invoice.Id };
            await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", body, approve);

            // The first delivery decided to approve and stalls just before sending; its lease runs out meanwhile.
            await stall.Reached.Task.WaitAsync(TimeSpan.FromSeconds(120));
            await using (var connection = await bridge.Get<IBridgeDatabase>().OpenAsync(CancellationToken.None))
            {
                Assert.Equal(1, await connection.ExecuteAsync(
                    "UPDATE bridge.document_states SET claim_expires_at = clock_timestamp() - interval '1 second' WHERE scope = 'invoice:1' AND document_key = @Key AND claimed_by IS NOT NULL",
                    new { Key = documentId }));
            }

            // The broker delivers the approval again (its first delivery looks dead): it approves. Then the ERP revokes.
            await fixture.Erp.PublishJsonAsync($"{prefix}.{ApproveInvoiceConsumer.Queue}", body, approve);
            await fixture.Events.WaitForAsync<InvoiceApproved>(e => e.MessageId == approve, TimeSpan.FromSeconds(120));
            var revoke = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{RevokeInvoiceApprovalConsumer.Queue}", new { documentId, billingDate = "2026-10-01" }, revoke);
            await fixture.Events.WaitForAsync<InvoiceApprovalRevoked>(e => e.MessageId == revoke, TimeSpan.FromSeconds(120));

            // The stalled delivery wakes up, and ends: its message was answered by the redelivery.
            stall.Resume.TrySetResult();
            await PipelineTestData.EventuallyAsync(() => Task.FromResult(stall.Finished), finished => finished, TimeSpan.FromSeconds(120));

            // ActivePlatform holds what Bridge reported last: revoked.
            var state = Assert.Single(await fixture.Sandbox.Control.GetInvoicesAsync(CancellationToken.None), i => i.Id == invoice.Id);
            Assert.False(state.Approved, "the stalled delivery's approval was sent after the revoke");
        }
        finally
        {
            stall.Resume.TrySetResult();
        }
    }

    /// <summary>
    /// Holds the first delivery that goes on from its decision to its send — at its claim's renewal before the send or, were
    /// there none, at the approval itself — until <see cref="Resume"/>, as a process paused at that moment; then records when
    /// that delivery's step ended (sent, refused, or stopped).
    /// </summary>
    private sealed class StallBeforeSend(string scope, string documentKey)
    {
        private int stalled;
        private volatile bool finished;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Resume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Finished => finished;

        public IDocumentStateStore Around(IDocumentStateStore inner) => new Store(this, inner);

        public IInvoicesClient Around(IInvoicesClient inner) => new Client(this, inner);

        private async Task<T> StallOnceAsync<T>(Func<Task<T>> step)
        {
            if (Interlocked.Exchange(ref stalled, 1) != 0)
            {
                return await step();
            }

            Reached.SetResult();
            await Resume.Task;
            try
            {
                return await step();
            }
            finally
            {
                finished = true;
            }
        }

        private sealed class Store(StallBeforeSend stall, IDocumentStateStore inner) : DelegatingDocumentStateStore(inner)
        {
            public override Task<bool> TryRenewAsync(DbTransaction? transaction, string scope, string documentKey, string owner, TimeSpan lease, CancellationToken cancellationToken)
                => scope == stall.Scope && documentKey == stall.DocumentKey
                    ? stall.StallOnceAsync(() => base.TryRenewAsync(transaction, scope, documentKey, owner, lease, cancellationToken))
                    : base.TryRenewAsync(transaction, scope, documentKey, owner, lease, cancellationToken);
        }

        private sealed class Client(StallBeforeSend stall, IInvoicesClient inner) : IInvoicesClient
        {
            public Task<Invoice> ApproveInvoiceAsync(long resellerId, InvoiceTarget target, InvoiceApproval approval, CancellationToken cancellationToken)
                => approval.DocumentId == stall.DocumentKey
                    ? stall.StallOnceAsync(() => inner.ApproveInvoiceAsync(resellerId, target, approval, cancellationToken))
                    : inner.ApproveInvoiceAsync(resellerId, target, approval, cancellationToken);

            public Task<Invoice> CompleteInvoiceAsync(long resellerId, InvoiceTarget target, string documentId, DateOnly billingDate, CancellationToken cancellationToken)
                => inner.CompleteInvoiceAsync(resellerId, target, documentId, billingDate, cancellationToken);

            public Task<Invoice> RevokeInvoiceApprovalAsync(long resellerId, string invoiceId, string documentId, DateOnly billingDate, CancellationToken cancellationToken)
                => inner.RevokeInvoiceApprovalAsync(resellerId, invoiceId, documentId, billingDate, cancellationToken);
        }

        private string Scope => scope;

        private string DocumentKey => documentKey;
    }
}
