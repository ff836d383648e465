using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.Invoices;

/// <summary>Postpaid invoices managed by the ERP. Every failure is an <see cref="ActivePlatformException"/> (with <c>Code</c> = <c>INVOICE-00xx</c>).</summary>
public interface IInvoicesClient
{
    Task<Invoice> ApproveInvoiceAsync(long resellerId, InvoiceTarget target, InvoiceApproval approval, CancellationToken cancellationToken);

    Task<Invoice> CompleteInvoiceAsync(long resellerId, InvoiceTarget target, string documentId, DateOnly billingDate, CancellationToken cancellationToken);

    /// <summary>Revoke is documented by invoice id only.</summary>
    Task<Invoice> RevokeInvoiceApprovalAsync(long resellerId, string invoiceId, string documentId, DateOnly billingDate, CancellationToken cancellationToken);
}

/// <summary>Calls go through <see cref="ActivePlatformClient"/>'s error translation, so failures classify as for every other API.</summary>
public sealed class InvoicesClient(IInvoicesApi invoices, ActivePlatformClient core) : IInvoicesClient
{
    public Task<Invoice> ApproveInvoiceAsync(long resellerId, InvoiceTarget target, InvoiceApproval approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        var body = new InvoiceActionBody
        {
            DocumentId = approval.DocumentId,
            BillingDate = approval.BillingDate,
            ExternalTotal = approval.ExternalTotal is { } total ? MoneyWrite.Format(total) : null,
            ExternalCurrency = approval.ExternalCurrency,
            DueDate = approval.DueDate,
        };
        return SendAsync(
            resellerId,
            target,
            (accountId, ct) => invoices.ApproveByAccountAsync(resellerId, accountId, body, ct),
            (invoiceId, ct) => invoices.ApproveByIdAsync(resellerId, invoiceId, body, ct),
            cancellationToken);
    }

    public Task<Invoice> CompleteInvoiceAsync(long resellerId, InvoiceTarget target, string documentId, DateOnly billingDate, CancellationToken cancellationToken)
    {
        var body = new InvoiceActionBody { DocumentId = documentId, BillingDate = billingDate };
        return SendAsync(
            resellerId,
            target,
            (accountId, ct) => invoices.CompleteByAccountAsync(resellerId, accountId, body, ct),
            (invoiceId, ct) => invoices.CompleteByIdAsync(resellerId, invoiceId, body, ct),
            cancellationToken);
    }

    public Task<Invoice> RevokeInvoiceApprovalAsync(long resellerId, string invoiceId, string documentId, DateOnly billingDate, CancellationToken cancellationToken)
    {
        var body = new InvoiceActionBody { DocumentId = documentId, BillingDate = billingDate };
        return SendAsync(
            resellerId,
            InvoiceTarget.ById(invoiceId),
            (_, _) => throw new InvalidOperationException("Revoke is by invoice id only."),
            (id, ct) => invoices.RevokeByIdAsync(resellerId, id, body, ct),
            cancellationToken);
    }

    private async Task<Invoice> SendAsync(
        long resellerId,
        InvoiceTarget target,
        Func<long, CancellationToken, Task<IApiResponse<JsonApiDocument<Invoice>>>> byAccount,
        Func<string, CancellationToken, Task<IApiResponse<JsonApiDocument<Invoice>>>> byId,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var response = await core.CallAsync(
            ct => target.InvoiceId is { Length: > 0 } id
                ? byId(id, ct)
                : byAccount(target.AccountId ?? throw new ArgumentException("An invoice target needs an account id or an invoice id.", nameof(target)), ct),
            cancellationToken).ConfigureAwait(false);
        // A 404 (documented for an unknown invoice) is first checked against the reseller, which ActivePlatform may also
        // answer 404 when the token does not reach it: that is Bridge's configuration, not the invoice's refusal.
        await core.EnsureSuccessAsync(response, resellerId, cancellationToken).ConfigureAwait(false);
        return response.Content?.Items.FirstOrDefault(i => !string.IsNullOrEmpty(i.Id))
            ?? throw new ActivePlatformPermanentException(
                $"ActivePlatform accepted {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} but its answer names no invoice.",
                new ActivePlatformFailureDetails { Method = response.RequestMessage?.Method.Method, RequestUri = response.RequestMessage?.RequestUri });
    }
}
