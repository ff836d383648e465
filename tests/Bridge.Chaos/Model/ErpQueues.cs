namespace Bridge.Chaos.Model;

/// <summary>Bridge's input queues (without the run's prefix) by the contract each carries.</summary>
public static class ErpQueues
{
    public static readonly IReadOnlyDictionary<string, string> ByMessageType = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["SendClosingDocument"] = "send-closing-document",
        ["DeleteClosingDocument"] = "delete-closing-document",
        ["NotifyClosingDocuments"] = "notify-closing-documents",
        ["CompletePayment"] = "complete-payment",
        ["RegisterPayment"] = "register-payment",
        ["CancelPayment"] = "cancel-payment",
        ["UpdateCurrencyRates"] = "update-currency-rates",
        ["CreateCorrection"] = "create-correction",
        ["ApproveCorrection"] = "approve-correction",
        ["DeclineCorrection"] = "decline-correction",
        ["ApproveInvoice"] = "approve-invoice",
        ["CompleteInvoice"] = "complete-invoice",
        ["RevokeInvoiceApproval"] = "revoke-invoice-approval",
    };

    public static IEnumerable<string> All => ByMessageType.Values;
}
