using System.Globalization;
using Bridge.Contracts;

namespace Bridge.Chaos.Recording;

/// <summary>One line per result event, with the figures a reader of a violation needs.</summary>
public static class EventText
{
    public static string Describe(IResultEvent e)
    {
        var detail = e switch
        {
            ClosingDocumentSent s => $"id={s.ExternalInvoiceId} {s.Outcome} revision={s.Revision} modifiedAt={s.ModifiedAt:O}",
            ClosingDocumentSkipped s => $"skipped {s.SkippedVersion} (applied {s.AppliedVersion})",
            ClosingDocumentDeleted d => $"id={d.ExternalInvoiceId} wasPresent={d.WasPresent}",
            ClosingDocumentsNotified n => $"accounts={string.Join(',', n.AccountIds)} {n.StartDate:yyyy-MM-dd}..{n.EndDate:yyyy-MM-dd}",
            PaymentCompleted p => $"{p.Mode} {p.Outcome} payment={p.PaymentId} number={p.PaymentNumber} status={p.PaymentStatus} amount={Money(p.Amount)} line={p.ExternalTransactionId} correction={p.CorrectionId} alreadyApplied={p.AlreadyApplied}",
            PaymentRegistered p => $"payment={p.PaymentId} number={p.PaymentNumber} total={Money(p.Total)} alreadyApplied={p.AlreadyApplied}",
            PaymentCancelled p => $"payment={p.PaymentId} status={p.PaymentStatus} alreadyApplied={p.AlreadyApplied}",
            CurrencyRatesUpdated r => $"effectiveAt={r.EffectiveAt:O} applied=[{string.Join(' ', r.Applied.Select(a => $"{a.BaseCurrency}/{a.ForeignCurrency}={Money(a.Rate)}"))}] unchanged={r.Unchanged.Count} skipped={r.Skipped.Count} alreadyApplied={r.AlreadyApplied}",
            CurrencyRatesSkipped r => $"effectiveAt={r.EffectiveAt:O} skipped=[{string.Join(' ', r.Skipped.Select(s => $"{s.BaseCurrency}/{s.ForeignCurrency}<{s.AppliedEffectiveAt:O}"))}]",
            CorrectionCreated c => $"correction={c.CorrectionId} total={Money(c.Total)} alreadyApplied={c.AlreadyApplied}",
            CorrectionApproved c => $"correction={c.CorrectionId} alreadyApplied={c.AlreadyApplied}",
            CorrectionDeclined c => $"correction={c.CorrectionId} alreadyApplied={c.AlreadyApplied}",
            InvoiceApproved i => $"invoice={i.InvoiceId} alreadyApplied={i.AlreadyApplied}",
            InvoiceCompleted i => $"invoice={i.InvoiceId} payment={i.PaymentId} alreadyApplied={i.AlreadyApplied}",
            InvoiceApprovalRevoked i => $"invoice={i.InvoiceId} alreadyApplied={i.AlreadyApplied}",
            ErpMessageDeadLettered d => $"deadLetter={d.DeadLetterId} {d.ExceptionType}: {Shorten(d.Reason)} (failure {d.FailureCount})",
            ClosingDocumentRejected r => Rejection(r.Reason, r.Description, r.ActivePlatformError),
            PaymentRejected r => Rejection(r.Reason, r.Description, r.ActivePlatformError),
            CurrencyRatesRejected r => Rejection(r.Reason, r.Description, r.ActivePlatformError),
            CorrectionRejected r => Rejection(r.Reason, r.Description, r.ActivePlatformError),
            InvoiceRejected r => Rejection(r.Reason, r.Description, r.ActivePlatformError),
            _ => "",
        };
        return $"key={Visible(e.Key)} message={Visible(e.MessageId)} {detail}";
    }

    /// <summary>The reason of any of the five rejection events; null for any other event.</summary>
    public static RejectionReason? RejectionOf(IResultEvent e) => e switch
    {
        ClosingDocumentRejected r => r.Reason,
        PaymentRejected r => r.Reason,
        CurrencyRatesRejected r => r.Reason,
        CorrectionRejected r => r.Reason,
        InvoiceRejected r => r.Reason,
        _ => null,
    };

    /// <summary>The description of any of the five rejection events; null for any other event.</summary>
    public static string? DescriptionOf(IResultEvent e) => e switch
    {
        ClosingDocumentRejected r => r.Description,
        PaymentRejected r => r.Description,
        CurrencyRatesRejected r => r.Description,
        CorrectionRejected r => r.Description,
        InvoiceRejected r => r.Description,
        _ => null,
    };

    /// <summary>
    /// True for the <c>IdempotencyConflict</c> Bridge answers when a message's idempotency key already belongs to another
    /// payload ("Idempotency key '…' was already used by …"); false for one about a natural key (a top-up, statement line or
    /// correction key already applied with other figures), which is the answer of the payload that holds the message's key.
    /// </summary>
    public static bool IsKeyConflict(IResultEvent e) =>
        RejectionOf(e) == RejectionReason.IdempotencyConflict && DescriptionOf(e)?.StartsWith("Idempotency key '", StringComparison.Ordinal) == true;

    public static ActivePlatformError? ActivePlatformErrorOf(IResultEvent e) => e switch
    {
        ClosingDocumentRejected r => r.ActivePlatformError,
        PaymentRejected r => r.ActivePlatformError,
        CurrencyRatesRejected r => r.ActivePlatformError,
        CorrectionRejected r => r.ActivePlatformError,
        InvoiceRejected r => r.ActivePlatformError,
        _ => null,
    };

    /// <summary>Control characters and invisible ones written as \uXXXX, so a key can be read in a report.</summary>
    public static string Visible(string? text)
    {
        if (text is null)
        {
            return "(null)";
        }

        var builder = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsControl(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    public static string Money(decimal? value) => value?.ToString("0.00##", CultureInfo.InvariantCulture) ?? "-";

    private static string Rejection(RejectionReason reason, string description, ActivePlatformError? error) =>
        $"{reason}: {Shorten(description)}" + (error is null ? "" : $" [AP {error.Status} {error.Code} {error.Title}]");

    private static string Shorten(string text) => text.Length > 240 ? text[..240] + "…" : text;
}
