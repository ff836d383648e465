namespace Bridge.Contracts;

/// <summary>
/// The input queue of every command an ERP publishes to Bridge, one queue per message type, and the query queue. The constants are the names
/// without the deployment's prefix (<c>Bridge:Messaging:QueuePrefix</c>, <see cref="DefaultPrefix"/> unless configured):
/// publish to <see cref="Name"/>, e.g. <c>bridge.send-closing-document</c>. Bridge's consumers take their queues from here.
/// </summary>
public static class BridgeQueues
{
    /// <summary>The queue prefix Bridge uses unless its deployment configures another.</summary>
    public const string DefaultPrefix = "bridge";

    /// <summary><see cref="Bridge.Contracts.SendClosingDocument"/>: create or update a closing document.</summary>
    public const string SendClosingDocument = "send-closing-document";

    /// <summary><see cref="Bridge.Contracts.DeleteClosingDocument"/>: delete a closing document.</summary>
    public const string DeleteClosingDocument = "delete-closing-document";

    /// <summary><see cref="Bridge.Contracts.NotifyClosingDocuments"/>: notify accounts about their documents for a period.</summary>
    public const string NotifyClosingDocuments = "notify-closing-documents";

    /// <summary><see cref="Bridge.Contracts.CreateCorrection"/>: create a correction awaiting approval.</summary>
    public const string CreateCorrection = "create-correction";

    /// <summary><see cref="Bridge.Contracts.ApproveCorrection"/>: approve a correction.</summary>
    public const string ApproveCorrection = "approve-correction";

    /// <summary><see cref="Bridge.Contracts.DeclineCorrection"/>: decline a correction.</summary>
    public const string DeclineCorrection = "decline-correction";

    /// <summary><see cref="Bridge.Contracts.ApproveInvoice"/>: approve an invoice with the ERP's document id.</summary>
    public const string ApproveInvoice = "approve-invoice";

    /// <summary><see cref="Bridge.Contracts.CompleteInvoice"/>: complete an approved invoice.</summary>
    public const string CompleteInvoice = "complete-invoice";

    /// <summary><see cref="Bridge.Contracts.RevokeInvoiceApproval"/>: undo an invoice's approval.</summary>
    public const string RevokeInvoiceApproval = "revoke-invoice-approval";

    /// <summary><see cref="Bridge.Contracts.CompletePayment"/>: complete a payment from a bank statement line or from balance.</summary>
    public const string CompletePayment = "complete-payment";

    /// <summary><see cref="Bridge.Contracts.RegisterPayment"/>: create a top-up payment waiting for payment.</summary>
    public const string RegisterPayment = "register-payment";

    /// <summary><see cref="Bridge.Contracts.CancelPayment"/>: cancel a payment.</summary>
    public const string CancelPayment = "cancel-payment";

    /// <summary><see cref="Bridge.Contracts.UpdateCurrencyRates"/>: set a reseller's currency rates from one batch.</summary>
    public const string UpdateCurrencyRates = "update-currency-rates";

    /// <summary>
    /// <see cref="Bridge.Contracts.QueryActivePlatform"/>: reads of ActivePlatform, answered to the asker (MassTransit's request
    /// client, or the AMQP <c>reply_to</c> queue) with <see cref="Bridge.Contracts.QueryAnswered"/> or <see cref="Bridge.Contracts.QueryFailed"/>.
    /// Not a command queue: nothing published here is applied, kept or dead-lettered.
    /// </summary>
    public const string Queries = "queries";

    /// <summary>The queue's full name under <paramref name="prefix"/>: <c>{prefix}.{queue}</c>, e.g. <c>bridge.send-closing-document</c>.</summary>
    /// <param name="queue">One of this class's constants.</param>
    /// <param name="prefix">The deployment's <c>Bridge:Messaging:QueuePrefix</c>.</param>
    public static string Name(string queue, string prefix = DefaultPrefix) => $"{prefix}.{queue}";
}
