namespace Bridge.Chaos.Model;

/// <summary>
/// The families of ERP messages the generator mixes into one stream. Each can be left out of a run with
/// <c>--exclude</c> (e.g. when one known flaw is so frequent that it hides everything else).
/// </summary>
public enum Flow
{
    /// <summary>SendClosingDocument revisions (out of order, duplicated, republished, conflicting) and DeleteClosingDocument.</summary>
    ClosingDocuments,

    /// <summary>NotifyClosingDocuments.</summary>
    Notifications,

    /// <summary>CompletePayment by payment number: bank-statement lines, one or two per payment.</summary>
    StatementLines,

    /// <summary>CompletePayment by id and from balance, and CancelPayment, racing for the same payments.</summary>
    PaymentStatus,

    /// <summary>RegisterPayment: top-ups by the ERP's key.</summary>
    TopUps,

    /// <summary>UpdateCurrencyRates batches arriving out of order.</summary>
    CurrencyRates,

    /// <summary>CreateCorrection, ApproveCorrection, DeclineCorrection.</summary>
    Corrections,

    /// <summary>ApproveInvoice, CompleteInvoice, RevokeInvoiceApproval.</summary>
    Invoices,

    /// <summary>Bodies that are not JSON, and JSON bodies that break the contract, on every queue.</summary>
    BadInput,

    /// <summary>Keys and message ids holding control characters (NUL included).</summary>
    ControlCharacterKeys,
}

public static class Flows
{
    public static string Name(Flow flow) => flow switch
    {
        Flow.ClosingDocuments => "closing-documents",
        Flow.Notifications => "notifications",
        Flow.StatementLines => "statement-lines",
        Flow.PaymentStatus => "payment-status",
        Flow.TopUps => "top-ups",
        Flow.CurrencyRates => "currency-rates",
        Flow.Corrections => "corrections",
        Flow.Invoices => "invoices",
        Flow.BadInput => "bad-input",
        Flow.ControlCharacterKeys => "control-keys",
        _ => throw new ArgumentOutOfRangeException(nameof(flow)),
    };

    public static bool TryParse(string name, out Flow flow)
    {
        foreach (var candidate in Enum.GetValues<Flow>())
        {
            if (string.Equals(Name(candidate), name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                flow = candidate;
                return true;
            }
        }

        flow = default;
        return false;
    }
}
