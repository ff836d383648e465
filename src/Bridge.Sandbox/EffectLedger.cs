namespace Bridge.Sandbox;

/// <summary>
/// One change an API call made to the sandbox's state, recorded at the moment it took effect: a deferred async-task write
/// when the task completes, a call whose answer was lost (it still took effect) just like any other. Calls that changed
/// nothing (refused, faulted before the endpoint, hung until the client gave up) leave no entry. Control-API seeding is
/// not an effect.
/// </summary>
/// <param name="Kind">What happened; one of <see cref="EffectKinds"/>.</param>
/// <param name="Subject">What it happened to: a closing document's key, a payment or correction id, a payment number for
/// a statement line, a currency pair (<c>BASE/FOREIGN</c>), an invoice id, the account ids of a notification.</param>
/// <param name="Details">The figures the effect carried (ids, amounts, names), as strings in the API's own formats.</param>
public sealed record SandboxEffect(
    long Sequence,
    DateTimeOffset At,
    int ResellerId,
    string Kind,
    string Subject,
    IReadOnlyDictionary<string, string?> Details);

/// <summary>The kinds of <see cref="SandboxEffect"/>.</summary>
public static partial class EffectKinds
{
    public const string ExternalInvoiceCreated = "external_invoice.created";
    public const string ExternalInvoiceUpdated = "external_invoice.updated";
    public const string ExternalInvoiceDeleted = "external_invoice.deleted";
    public const string NotificationSent = "notification.sent";
    public const string PaymentCreated = "payment.created";
    public const string PaymentCompleted = "payment.completed";
    public const string PaymentPaidFromBalance = "payment.paid_from_balance";
    public const string PaymentCancelled = "payment.cancelled";

    /// <summary>A completion by payment number: one bank-statement line, whatever the matrix made of it.</summary>
    public const string PaymentLineApplied = "payment.line_applied";
    public const string CorrectionCreated = "correction.created";
    public const string CorrectionApproved = "correction.approved";
    public const string CorrectionDeclined = "correction.declined";

    /// <summary>One pair of a currency-rate PATCH (a PATCH of three pairs is three entries).</summary>
    public const string CurrencyRateSet = "currency_rate.set";
    public const string InvoiceApproved = "invoice.approved";
    public const string InvoiceCompleted = "invoice.completed";
    public const string InvoiceRevoked = "invoice.revoked";
}

/// <summary>
/// The ledger of effects (<c>GET /_sandbox/effects</c>), so a test can count how often something really happened.
/// The stores write to it under their own locks, so its order is the order the state changed in.
/// </summary>
internal sealed class EffectLedger(SandboxClock clock)
{
    private readonly Lock _gate = new();
    private readonly List<SandboxEffect> _effects = [];
    private long _sequence;

    public void Record(int resellerId, string kind, string subject, params (string Name, string? Value)[] details)
    {
        var map = details.ToDictionary(d => d.Name, d => d.Value, StringComparer.Ordinal);
        lock (_gate)
        {
            _effects.Add(new SandboxEffect(++_sequence, clock.Now, resellerId, kind, subject, map));
        }
    }

    /// <summary>Effects in the order they happened; each filter optional (<paramref name="kind"/> also matches a prefix such as <c>payment.</c>).</summary>
    public IReadOnlyList<SandboxEffect> Query(string? kind, string? subject, long? after)
    {
        lock (_gate)
        {
            return
            [
                .. _effects.Where(e =>
                    (string.IsNullOrEmpty(kind) || e.Kind == kind || (kind.EndsWith('.') && e.Kind.StartsWith(kind, StringComparison.Ordinal)))
                    && (subject is null || string.Equals(e.Subject, subject, StringComparison.Ordinal))
                    && (after is null || e.Sequence > after)),
            ];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _effects.Clear();
        }
    }
}
