using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Features.Corrections;
using Bridge.Host.Features.Invoices;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A message naming an account its reseller does not have. The sandbox answers it as inferred for ActivePlatform (404 for an
/// account in the path, 422 "Account must exist" for one in a body): the message is the ERP's mistake, so each flow rejects
/// it with ActivePlatform's error — once, not retried, not dead-lettered — and reports no effect.
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class UnknownAccountPipelineTests(PipelineFixture fixture)
{
    private static string NewMessageId() => NewId.NextGuid().ToString("D");

    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    private async Task<IResultEvent> PublishAsync(string queue, object body)
    {
        var messageId = NewMessageId();
        await fixture.Erp.PublishJsonAsync(fixture.Queue(queue), body, messageId);
        return await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(90));
    }

    private async Task<IReadOnlyList<SandboxCall>> CallsAsync(string method, string pathContains)
        => await Sandbox.GetCallsAsync(method, pathContains, null, CancellationToken.None);

    private static void AssertRefused(ActivePlatformError? error, RejectionReason reason, int status)
    {
        Assert.Equal(RejectionReason.RejectedByActivePlatform, reason);
        Assert.NotNull(error);
        Assert.Equal(status, error.Status);
    }

    [Theory]
    [InlineData(TestAccounts.Unknown)]
    [InlineData(TestAccounts.OfReseller2)]
    public async Task A_closing_document_for_an_account_the_reseller_does_not_have_is_rejected_with_the_404_and_nothing_is_written(long account)
    {
        var key = Guid.NewGuid().ToString();

        var answer = await PublishAsync(SendClosingDocumentConsumer.Queue, PipelineTestData.Document(key, 1, account));

        var rejected = Assert.IsType<ClosingDocumentRejected>(answer);
        AssertRefused(rejected.ActivePlatformError, rejected.Reason, 404);
        Assert.Single(await CallsAsync("POST", $"/accounts/{account}/external_invoices"));
        Assert.DoesNotContain(await Sandbox.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        Assert.Empty(await Sandbox.GetEffectsAsync("external_invoice.", key, CancellationToken.None));
    }

    [Fact]
    public async Task A_delete_for_an_unknown_account_reports_that_nothing_was_there_and_sends_no_delete()
    {
        // The lookup by key is answered 404, as for a key ActivePlatform does not have: nothing to delete, no effect claimed.
        var key = Guid.NewGuid().ToString();

        var answer = await PublishAsync(DeleteClosingDocumentConsumer.Queue, new { accountId = TestAccounts.Unknown, key });

        var deleted = Assert.IsType<ClosingDocumentDeleted>(answer);
        Assert.False(deleted.WasPresent);
        Assert.Null(deleted.ExternalInvoiceId);
        Assert.Empty(await CallsAsync("DELETE", $"/accounts/{TestAccounts.Unknown}/external_invoices"));
        Assert.Empty(await Sandbox.GetEffectsAsync("external_invoice.", key, CancellationToken.None));
    }

    [Fact]
    public async Task Notifications_naming_an_unknown_account_are_rejected_with_the_422_and_none_is_sent()
    {
        var key = $"notify-{Guid.NewGuid():N}";
        var before = await Sandbox.GetNotificationsAsync(CancellationToken.None);

        var answer = await PublishAsync(
            NotifyClosingDocumentsConsumer.Queue,
            new { key, accountIds = new[] { PipelineFixture.AccountId, TestAccounts.Unknown }, startDate = "2026-10-01", endDate = "2026-10-31" });

        var rejected = Assert.IsType<ClosingDocumentRejected>(answer);
        AssertRefused(rejected.ActivePlatformError, rejected.Reason, 422);
        Assert.Contains("Account must exist", rejected.ActivePlatformError!.Title, StringComparison.Ordinal);
        Assert.Equal(before.Count, (await Sandbox.GetNotificationsAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_top_up_for_an_unknown_account_is_rejected_with_the_422_and_no_payment_is_created()
    {
        var key = $"topup-{Guid.NewGuid():N}";

        var answer = await PublishAsync(RegisterPaymentConsumer.Queue, new { key, accountId = TestAccounts.Unknown, total = 12.5m, comment = "top-up payment" });

        var rejected = Assert.IsType<PaymentRejected>(answer);
        AssertRefused(rejected.ActivePlatformError, rejected.Reason, 422);
        Assert.DoesNotContain(await Sandbox.GetPaymentsAsync(null, null, CancellationToken.None), p => p.AccountId == TestAccounts.Unknown);
    }

    [Fact]
    public async Task A_correction_for_an_unknown_account_is_rejected_with_the_422_and_none_is_created()
    {
        var key = $"corr-{Guid.NewGuid():N}";

        var answer = await PublishAsync(
            CreateCorrectionConsumer.Queue,
            new { key, accountId = TestAccounts.Unknown, includedInvoice = false, total = 10.25m, comment = key });

        var rejected = Assert.IsType<CorrectionRejected>(answer);
        AssertRefused(rejected.ActivePlatformError, rejected.Reason, 422);
        Assert.DoesNotContain(await Sandbox.GetCorrectionsAsync(CancellationToken.None), c => c.Comment == key);
    }

    [Theory]
    [InlineData(ApproveInvoiceConsumer.Queue, "approve_invoices")]
    [InlineData(CompleteInvoiceConsumer.Queue, "complete_invoices")]
    public async Task An_invoice_action_by_an_unknown_account_is_rejected_with_the_404(string queue, string path)
    {
        var documentId = $"NS-{Guid.NewGuid():N}"[..20];

        var answer = await PublishAsync(queue, new { documentId, billingDate = "2026-10-01", accountId = TestAccounts.Unknown });

        var rejected = Assert.IsType<InvoiceRejected>(answer);
        AssertRefused(rejected.ActivePlatformError, rejected.Reason, 404);
        Assert.All(await CallsAsync("POST", $"/accounts/{TestAccounts.Unknown}/{path}"), c => Assert.Equal(404, c.Status));
        Assert.DoesNotContain(await Sandbox.GetEffectsAsync("invoice.", null, CancellationToken.None), e => e.Details.GetValueOrDefault("documentId") == documentId);
    }
}
