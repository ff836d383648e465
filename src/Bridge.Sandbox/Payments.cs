using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>A payment as the control API shows it (current state, money as strings).</summary>
public sealed record SandboxPayment(
    string Id,
    int ResellerId,
    long AccountId,
    string Number,
    string Total,
    string Currency,
    string Status,
    bool TopUp,
    string? LinkedInvoiceId,
    long? PaymentMethodId,
    IReadOnlyList<string> ExternalTransactionIds,
    IReadOnlyList<string> CorrectionIds,
    DateOnly? DueDate = null);

/// <summary>A correction ActivePlatform created while completing a payment by number.</summary>
public sealed record SandboxPaymentCorrection(string Id, int ResellerId, long AccountId, string PaymentId, string Total, string Status, string Comment);

/// <summary>
/// How <c>GET payments</c> treats the range operators of <c>filter[created_at]</c> the public docs do not name: only
/// <c>[gt]</c> is documented, <c>[gte]</c>, <c>[lt]</c> and <c>[lte]</c> are inferred (REFERENCE.md §0). A real installation
/// may honour them, ignore them or refuse them; set through <c>PUT /_sandbox/payment-filters</c>, back to honour on reset.
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<UndocumentedFilters>))]
public enum UndocumentedFilters
{
    Honour,
    Ignore,
    Reject,
}

/// <summary>Body of <c>PUT /_sandbox/payment-filters</c>.</summary>
public sealed record PaymentFilterSettings(UndocumentedFilters Undocumented);

/// <summary>A payment to put into the sandbox through <c>POST /_sandbox/payments</c>.</summary>
public sealed record SandboxPaymentSeed
{
    public int ResellerId { get; init; } = 1;

    public long AccountId { get; init; } = 523;

    public decimal Total { get; init; } = 100m;

    public string Currency { get; init; } = "USD";

    /// <summary><c>waiting_for_payment</c>, <c>expired</c>, <c>completed</c>, <c>paid_from_balance</c>, <c>cancelled</c>, <c>pending_billing</c>.</summary>
    public string Status { get; init; } = PaymentStatus.WaitingForPayment;

    public bool TopUp { get; init; }

    /// <summary>The postpaid invoice the payment is linked to; such a payment cannot be cancelled.</summary>
    public string? LinkedInvoiceId { get; init; }

    /// <summary>The payment number; generated from the id when absent.</summary>
    public string? Number { get; init; }
}

/// <summary>
/// What a manager changes by hand on a payment in ActivePlatform's own interface, outside the API: a correction entered
/// against it, and/or its status set. Applied through <c>POST /_sandbox/payments/{id}/by-hand</c>, or by a fault rule the
/// moment it faults a call (<see cref="FaultRule.ThenByHand"/>), e.g. after ActivePlatform applied a statement line whose
/// answer is then lost and before the client can read the payment back. Not an API effect: the ledger does not list it.
/// </summary>
public sealed class SandboxHandChange
{
    /// <summary>The comment of a correction a manager entered by hand.</summary>
    public const string CorrectionComment = "Entered by hand by a manager.";

    /// <summary>The payment changed; required in a fault rule, taken from the route by the control endpoint.</summary>
    public string? PaymentId { get; set; }

    /// <summary>A correction of this total entered against the payment (as ActivePlatform's UI does), when set.</summary>
    public decimal? CorrectionTotal { get; set; }

    /// <summary>The status the manager sets, when set; one of the statuses of <see cref="SandboxPaymentSeed.Status"/>.</summary>
    public string? Status { get; set; }
}

internal static class PaymentStatus
{
    public const string WaitingForPayment = "waiting_for_payment";
    public const string Expired = "expired";
    public const string Completed = "completed";
    public const string PaidFromBalance = "paid_from_balance";
    public const string Cancelled = "cancelled";
    public const string PendingBilling = "pending_billing";

    public static readonly string[] All = [WaitingForPayment, Expired, Completed, PaidFromBalance, Cancelled, PendingBilling];

    /// <summary>"Closed payment" of the completion matrix (REFERENCE.md §2.5).</summary>
    public static bool IsClosed(string status) => status is PendingBilling or Completed or PaidFromBalance or Cancelled;
}

internal sealed class StoredPayment
{
    public required long Id { get; init; }
    public required int ResellerId { get; init; }
    public required long AccountId { get; init; }
    public required string Number { get; init; }
    public required decimal Total { get; init; }
    public required string Currency { get; init; }
    public required string Comment { get; init; }
    public string? Purpose { get; init; }
    public required bool TopUp { get; init; }
    public string? LinkedInvoiceId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string Status { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public long? PaymentMethodId { get; set; }
    public long? ManagerId { get; set; }

    /// <summary>A postpaid invoice's payment has none until the invoice is approved, and cannot be paid without it (REFERENCE.md §6).</summary>
    public DateOnly? DueDate { get; set; }
    public decimal? ExternalTotal { get; set; }
    public string? ExternalCurrency { get; set; }
    public List<string> ExternalTransactionIds { get; } = [];
    public List<long> CorrectionIds { get; } = [];

    public JsonObject ToResource() => new()
    {
        ["id"] = Id.ToString(CultureInfo.InvariantCulture),
        ["type"] = "payments",
        ["attributes"] = new JsonObject
        {
            ["created_at"] = ApiJson.Timestamp(CreatedAt),
            ["updated_at"] = ApiJson.Timestamp(UpdatedAt),
            ["account_id"] = AccountId,
            ["discount_amount"] = "0.0",
            ["total"] = ApiJson.Money(Total),
            ["amount_paid_from_balance"] = null,
            ["initial_total"] = ApiJson.Money(Total),
            ["currency_code"] = Currency,
            ["comment"] = Comment,
            ["status"] = Status,
            ["document_id"] = Number,
            ["expiration_date"] = ApiJson.Date(DateOnly.FromDateTime(CreatedAt.AddDays(10).Date)),
            ["payment_method_id"] = PaymentMethodId,
            ["requester_ip"] = null,
            ["manager_id"] = ManagerId,
            ["purpose"] = Purpose,
            ["external_total"] = ExternalTotal is { } externalTotal ? ApiJson.Money(externalTotal) : null,
            ["external_currency"] = ExternalCurrency,
            ["due_date"] = DueDate is { } due ? ApiJson.Date(due) : null,
            ["payment_method_name"] = PaymentMethodId is { } method ? PaymentStore.MethodName(method) : null,
            ["closed_at"] = ClosedAt is { } closed ? ApiJson.Timestamp(closed) : null,
        },
        ["relationships"] = new JsonObject
        {
            ["orders"] = new JsonObject { ["data"] = new JsonArray() },
            ["invoices"] = new JsonObject { ["data"] = LinkedInvoiceId is null ? new JsonArray() : new JsonArray(Ref(LinkedInvoiceId, "invoices")) },
            ["charges"] = new JsonObject { ["data"] = new JsonArray() },
            ["corrections"] = new JsonObject { ["data"] = new JsonArray([.. CorrectionIds.Select(id => (JsonNode)Ref(id.ToString(CultureInfo.InvariantCulture), "corrections"))]) },
            ["reseller"] = new JsonObject { ["data"] = Ref(ResellerId.ToString(CultureInfo.InvariantCulture), "resellers") },
            ["account"] = new JsonObject { ["data"] = Ref(AccountId.ToString(CultureInfo.InvariantCulture), "accounts") },
            ["payment_method"] = new JsonObject { ["data"] = PaymentMethodId is { } m ? Ref(m.ToString(CultureInfo.InvariantCulture), "payment_methods") : null },
        },
    };

    public SandboxPayment View() => new(
        Id.ToString(CultureInfo.InvariantCulture), ResellerId, AccountId, Number, ApiJson.Money(Total), Currency, Status, TopUp, LinkedInvoiceId,
        PaymentMethodId, [.. ExternalTransactionIds], [.. CorrectionIds.Select(id => id.ToString(CultureInfo.InvariantCulture))], DueDate);

    private static JsonObject Ref(string id, string type) => new() { ["id"] = id, ["type"] = type };
}

/// <summary>A correction ActivePlatform made against a payment; the correction itself (its status) is the correction store's.</summary>
internal sealed record StoredPaymentCorrection(long Id, long PaymentId)
{
    public SandboxPaymentCorrection View(StoredCorrection correction) => new(
        Id.ToString(CultureInfo.InvariantCulture), correction.ResellerId, correction.Fields.AccountId, PaymentId.ToString(CultureInfo.InvariantCulture),
        ApiJson.Money(correction.Fields.Total), correction.Status, correction.Fields.Comment ?? "");
}

/// <summary>What a payment operation came to: the payment, or the documented (or inferred) error.</summary>
internal readonly record struct PaymentResult(StoredPayment? Payment, int Status, string? Error)
{
    public static PaymentResult Ok(StoredPayment payment) => new(payment, StatusCodes.Status200OK, null);

    public static PaymentResult Fail(int status, string error) => new(null, status, error);
}

/// <summary>
/// Payments and the corrections the completion matrix creates, under one lock. Seeded for reseller 1 with one payment
/// of each interesting kind; <see cref="Reset"/> seeds them again.
/// </summary>
internal sealed partial class PaymentStore
{
    /// <summary>The manager the sandbox token stands for (the docs' correction example's manager).</summary>
    public const long ManagerId = 225;

    public const string NotFound = "Record not found";
    public const string OnlyWaitingCanBeCancelled = "Only payments with \"waiting for payment\" status can be cancelled.";

    // The docs truncate this title after "Only payments for prepa…"; the rest is inferred.
    public const string OnlyPrepaidCanBeCancelled = "Only payments for prepaid orders and top-up payments can be cancelled.";
    public const string OnlyWaitingOrExpiredCanBeCompleted = "Only payments with \"waiting for payment\" or \"expired\" status can be completed.";
    public const string OnlyWaitingCanBePaidFromBalance = "Only payments with \"waiting for payment\" status can be paid from balance.";
    public const string TopUpCannotBePaidFromBalance = "Top-up payments cannot be paid from balance.";
    public const string CurrencyMismatch = "Currency code does not match the payment currency.";
    public const string ExternalTransactionInvalid = "External transaction id is invalid.";

    // The rule is documented ("such a payment cannot be paid or approved", REFERENCE.md §6 step 2); the answer is not [INFERRED].
    public const string InvoiceNotApproved = "A payment linked to an invoice that is not approved has no due date and cannot be paid.";

    private readonly Lock _gate = new();
    private readonly SandboxClock _clock;
    private readonly EffectLedger _ledger;
    private readonly CorrectionStore _correctionStore;
    private readonly Dictionary<long, StoredPayment> _payments = [];
    private readonly List<StoredPaymentCorrection> _corrections = [];

    // Ids keep growing across resets, so an id seen before a reset never names another payment after it.
    private long _lastPaymentId = 3000;

    public PaymentStore(SandboxClock clock, EffectLedger ledger, CorrectionStore correctionStore, SandboxSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _clock = clock;
        _ledger = ledger;
        _correctionStore = correctionStore;
        Seed();
        if (settings.FirstPaymentId is { } first)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(first, _lastPaymentId, nameof(settings.FirstPaymentId));
            _lastPaymentId = first - 1;
        }
    }

    public static string MethodName(long methodId) => methodId switch
    {
        1 => "Bank transfer",
        2 => "Cash",
        _ => string.Create(CultureInfo.InvariantCulture, $"Payment method {methodId}"),
    };

    public static string CorrectionComment(string documentId) =>
        $"Accounting of the amount received on the basis of {documentId} from an external system.";

    /// <summary>How undocumented range operators of the payments list are treated.</summary>
    public UndocumentedFilters UndocumentedFilters { get; set; }

    public void Reset()
    {
        UndocumentedFilters = UndocumentedFilters.Honour;
        lock (_gate)
        {
            _payments.Clear();
            _corrections.Clear();
            Seed();
        }
    }

    public StoredPayment Add(SandboxPaymentSeed seed, string comment = "payment", string? purpose = null)
    {
        lock (_gate)
        {
            var now = _clock.Now;
            var id = ++_lastPaymentId;
            var payment = new StoredPayment
            {
                Id = id,
                ResellerId = seed.ResellerId,
                AccountId = seed.AccountId,
                Number = seed.Number ?? id.ToString("D6", CultureInfo.InvariantCulture),
                Total = seed.Total,
                Currency = seed.Currency,
                Comment = comment,
                Purpose = purpose,
                TopUp = seed.TopUp,
                LinkedInvoiceId = seed.LinkedInvoiceId,
                CreatedAt = now,
                UpdatedAt = now,
                Status = seed.Status,
                ClosedAt = PaymentStatus.IsClosed(seed.Status) ? now : null,
                PaymentMethodId = seed.Status == PaymentStatus.Completed ? 2 : null,
            };
            _payments.Add(id, payment);
            return payment;
        }
    }

    /// <summary>A top-up created through the API (<c>POST payments</c>): an effect, unlike a payment seeded through the control API.</summary>
    public StoredPayment CreateTopUp(int resellerId, long accountId, decimal total, string comment, string? purpose)
    {
        lock (_gate)
        {
            var payment = Add(new SandboxPaymentSeed { ResellerId = resellerId, AccountId = accountId, Total = total, TopUp = true }, comment, purpose);
            _ledger.Record(resellerId, EffectKinds.PaymentCreated, Id(payment),
                ("number", payment.Number), ("accountId", payment.AccountId.ToString(CultureInfo.InvariantCulture)),
                ("total", ApiJson.Money(payment.Total)), ("comment", payment.Comment), ("purpose", payment.Purpose));
            return payment;
        }
    }

    public JsonObject? Get(int resellerId, long id, bool includeCorrections)
    {
        lock (_gate)
        {
            if (Find(resellerId, id) is not { } payment)
            {
                return null;
            }

            var document = new JsonObject { ["data"] = payment.ToResource() };
            if (includeCorrections)
            {
                document["included"] = new JsonArray([.. _corrections.Where(c => c.PaymentId == id).Select(c => _correctionStore.Find(c.Id)!.ToJson()["data"]!.DeepClone())]);
            }

            return document;
        }
    }

    public JsonArray List(int resellerId, Func<StoredPayment, bool> filter, int pageSize, int pageNumber)
    {
        lock (_gate)
        {
            return new JsonArray([.. _payments.Values
                .Where(p => p.ResellerId == resellerId && filter(p))
                .OrderBy(p => p.Id)
                .Skip((pageNumber - 1) * pageSize)
                .Take(pageSize)
                .Select(p => (JsonNode)p.ToResource())]);
        }
    }

    /// <summary>The status of the store's payment linked to the invoice, or null when the invoice's payment is kept apart from the store.</summary>
    public string? LinkedStatusOf(int resellerId, long id, string invoiceId)
    {
        lock (_gate)
        {
            return Linked(resellerId, id, invoiceId)?.Status;
        }
    }

    /// <summary>
    /// Completing a postpaid invoice "completes the linked payment" (REFERENCE.md §6 step 4). Which payment method and manager
    /// that records is not documented: none is set here [INFERRED], so the payment shows no method the API did not set. Not an
    /// effect of its own in the ledger: the invoice's completion is.
    /// </summary>
    public void CompleteLinked(int resellerId, long id, string invoiceId)
    {
        lock (_gate)
        {
            if (Linked(resellerId, id, invoiceId) is { Status: PaymentStatus.WaitingForPayment or PaymentStatus.Expired } payment)
            {
                var now = _clock.Now;
                payment.Status = PaymentStatus.Completed;
                payment.ClosedAt = now;
                payment.UpdatedAt = now;
            }
        }
    }

    /// <summary>
    /// Approving a postpaid invoice sets its payment's due date (and, when given, the third-party amount and currency);
    /// revoking clears them (REFERENCE.md §6 step 3, and the support script's <c>cancel_external_erp_approve</c>). Not an effect
    /// of its own in the ledger: the invoice's approval or revoke is.
    /// </summary>
    public void SetLinkedTerms(int resellerId, long id, string invoiceId, DateOnly? dueDate, decimal? externalTotal, string? externalCurrency)
    {
        lock (_gate)
        {
            if (Linked(resellerId, id, invoiceId) is { } payment)
            {
                payment.DueDate = dueDate;
                payment.ExternalTotal = externalTotal;
                payment.ExternalCurrency = externalCurrency;
                payment.UpdatedAt = _clock.Now;
            }
        }
    }

    private static bool AwaitsInvoiceApproval(StoredPayment payment) => payment.LinkedInvoiceId is not null && payment.DueDate is null;

    public PaymentResult Cancel(int resellerId, long id)
    {
        lock (_gate)
        {
            if (Find(resellerId, id) is not { } payment)
            {
                return PaymentResult.Fail(StatusCodes.Status404NotFound, NotFound);
            }

            if (payment.Status != PaymentStatus.WaitingForPayment)
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, OnlyWaitingCanBeCancelled);
            }

            if (payment.LinkedInvoiceId is not null)
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, OnlyPrepaidCanBeCancelled);
            }

            Close(payment, PaymentStatus.Cancelled);
            _ledger.Record(resellerId, EffectKinds.PaymentCancelled, Id(payment), ("number", payment.Number));
            return PaymentResult.Ok(payment);
        }
    }

    public PaymentResult CompleteById(int resellerId, long id, long paymentMethodId)
    {
        lock (_gate)
        {
            if (Find(resellerId, id) is not { } payment)
            {
                return PaymentResult.Fail(StatusCodes.Status404NotFound, NotFound);
            }

            if (payment.Status is not (PaymentStatus.WaitingForPayment or PaymentStatus.Expired))
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, OnlyWaitingOrExpiredCanBeCompleted);
            }

            if (AwaitsInvoiceApproval(payment))
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, InvoiceNotApproved);
            }

            payment.PaymentMethodId = paymentMethodId;
            Close(payment, PaymentStatus.Completed);
            _ledger.Record(resellerId, EffectKinds.PaymentCompleted, Id(payment),
                ("number", payment.Number), ("paymentMethodId", paymentMethodId.ToString(CultureInfo.InvariantCulture)));
            return PaymentResult.Ok(payment);
        }
    }

    public PaymentResult PayFromBalance(int resellerId, long id)
    {
        lock (_gate)
        {
            if (Find(resellerId, id) is not { } payment)
            {
                return PaymentResult.Fail(StatusCodes.Status404NotFound, NotFound);
            }

            if (payment.Status != PaymentStatus.WaitingForPayment)
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, OnlyWaitingCanBePaidFromBalance);
            }

            if (payment.TopUp)
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, TopUpCannotBePaidFromBalance);
            }

            if (AwaitsInvoiceApproval(payment))
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, InvoiceNotApproved);
            }

            Close(payment, PaymentStatus.PaidFromBalance);
            _ledger.Record(resellerId, EffectKinds.PaymentPaidFromBalance, Id(payment), ("number", payment.Number));
            return PaymentResult.Ok(payment);
        }
    }

    /// <summary>The documented matrix of completion by payment number (REFERENCE.md §2.5).</summary>
    public PaymentResult CompleteByNumber(int resellerId, string documentId, long paymentMethodId, decimal? amount, string? currency, string? externalTransactionId)
    {
        lock (_gate)
        {
            var payment = _payments.Values.FirstOrDefault(p => p.ResellerId == resellerId && string.Equals(p.Number, documentId, StringComparison.Ordinal));
            if (payment is null)
            {
                return PaymentResult.Fail(StatusCodes.Status404NotFound, NotFound);
            }

            if (currency is not null && !string.Equals(currency, payment.Currency, StringComparison.Ordinal))
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, CurrencyMismatch);
            }

            if (externalTransactionId is not null && !ExternalTransactionPattern().IsMatch(externalTransactionId))
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, ExternalTransactionInvalid);
            }

            // [INFERRED] A paid amount for an open payment that "cannot be paid" is refused whole; a closed one takes a correction.
            if (!PaymentStatus.IsClosed(payment.Status) && AwaitsInvoiceApproval(payment))
            {
                return PaymentResult.Fail(StatusCodes.Status422UnprocessableEntity, InvoiceNotApproved);
            }

            var paid = amount ?? payment.Total;
            var statusBefore = payment.Status;
            if (externalTransactionId is not null)
            {
                payment.ExternalTransactionIds.Add(externalTransactionId);
            }

            StoredCorrection? correction = null;
            if (PaymentStatus.IsClosed(payment.Status))
            {
                correction = AddCorrection(payment, paid, CorrectionComment(documentId));
            }
            else if (paid >= payment.Total)
            {
                payment.PaymentMethodId = paymentMethodId;
                Close(payment, PaymentStatus.Completed);
                if (paid > payment.Total)
                {
                    correction = AddCorrection(payment, paid - payment.Total, CorrectionComment(documentId));
                }
            }
            else
            {
                correction = AddCorrection(payment, paid, CorrectionComment(documentId));
            }

            payment.UpdatedAt = _clock.Now;
            _ledger.Record(resellerId, EffectKinds.PaymentLineApplied, documentId,
                ("paymentId", Id(payment)), ("externalTransactionId", externalTransactionId), ("amount", ApiJson.Money(paid)),
                ("statusBefore", statusBefore), ("statusAfter", payment.Status),
                ("correctionId", correction?.Id.ToString(CultureInfo.InvariantCulture)), ("correctionTotal", correction is null ? null : ApiJson.Money(correction.Fields.Total)));
            return PaymentResult.Ok(payment);
        }
    }

    /// <summary>Why <paramref name="change"/> cannot be applied to payment <paramref name="paymentId"/>, or null when it can.</summary>
    public string? RefuseHandChange(string? paymentId, SandboxHandChange change)
    {
        if (change.CorrectionTotal is null && change.Status is null)
        {
            return "a change by hand sets correctionTotal, status or both";
        }

        if (change.CorrectionTotal is <= 0)
        {
            return "correctionTotal must be positive";
        }

        if (change.Status is { } status && !PaymentStatus.All.Contains(status))
        {
            return "status must be one of " + string.Join(", ", PaymentStatus.All);
        }

        lock (_gate)
        {
            return ParseHandChangeId(paymentId) is { } id && _payments.ContainsKey(id) ? null : $"no payment with id '{paymentId}'";
        }
    }

    /// <summary>A manager's change by hand (<see cref="SandboxHandChange"/>); null when it cannot be applied.</summary>
    public StoredPayment? ChangeByHand(string? paymentId, SandboxHandChange change)
    {
        if (RefuseHandChange(paymentId, change) is not null)
        {
            return null;
        }

        lock (_gate)
        {
            var payment = _payments[ParseHandChangeId(paymentId)!.Value];
            if (change.CorrectionTotal is { } total)
            {
                AddCorrection(payment, total, SandboxHandChange.CorrectionComment);
            }

            if (change.Status is { } status && status != payment.Status)
            {
                if (PaymentStatus.IsClosed(status))
                {
                    Close(payment, status);
                }
                else
                {
                    payment.Status = status;
                    payment.ClosedAt = null;
                    payment.ManagerId = ManagerId;
                }
            }

            payment.UpdatedAt = _clock.Now;
            return payment;
        }
    }

    private static long? ParseHandChangeId(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    public IReadOnlyList<SandboxPayment> Views(string? number, string? id)
    {
        lock (_gate)
        {
            return
            [
                .. _payments.Values
                    .Where(p => (number is null || p.Number == number) && (id is null || p.Id.ToString(CultureInfo.InvariantCulture) == id))
                    .OrderBy(p => p.Id)
                    .Select(p => p.View()),
            ];
        }
    }

    public IReadOnlyList<SandboxPaymentCorrection> CorrectionViews(string? paymentId)
    {
        lock (_gate)
        {
            return
            [
                .. _corrections
                    .Where(c => paymentId is null || c.PaymentId.ToString(CultureInfo.InvariantCulture) == paymentId)
                    .Select(c => c.View(_correctionStore.Find(c.Id)!)),
            ];
        }
    }

    private static string Id(StoredPayment payment) => payment.Id.ToString(CultureInfo.InvariantCulture);

    private StoredPayment? Linked(int resellerId, long id, string invoiceId) =>
        Find(resellerId, id) is { } payment && payment.LinkedInvoiceId == invoiceId ? payment : null;

    private StoredPayment? Find(int resellerId, long id) =>
        _payments.TryGetValue(id, out var payment) && payment.ResellerId == resellerId ? payment : null;

    private void Close(StoredPayment payment, string status)
    {
        var now = _clock.Now;
        payment.Status = status;
        payment.ClosedAt = now;
        payment.UpdatedAt = now;
        payment.ManagerId = ManagerId;
    }

    private StoredCorrection AddCorrection(StoredPayment payment, decimal total, string comment)
    {
        var correction = _correctionStore.CreateByPlatform(payment.ResellerId, payment.AccountId, total, comment, _clock.Now);
        _corrections.Add(new StoredPaymentCorrection(correction.Id, payment.Id));
        payment.CorrectionIds.Add(correction.Id);
        return correction;
    }

    /// <summary>Reseller 1's accounts (167, 523, 685) get one payment of each kind the documented rules tell apart.</summary>
    private void Seed()
    {
        Add(new SandboxPaymentSeed { AccountId = 523, Total = 100m, Number = "002016" }, "order payment");
        Add(new SandboxPaymentSeed { AccountId = 523, Total = 250m, Status = PaymentStatus.Expired, Number = "002017" }, "order payment");
        Add(new SandboxPaymentSeed { AccountId = 167, Total = 199.99m, Status = PaymentStatus.Completed, Number = "002018" }, "order payment");
        Add(new SandboxPaymentSeed { AccountId = 685, Total = 1500m, LinkedInvoiceId = "12201", Number = "002019" }, "postpaid invoice payment");
        Add(new SandboxPaymentSeed { AccountId = 523, Total = 199.99m, TopUp = true, Number = "002020" }, "top-up payment", "prepay payment");
    }

    // "2–255 characters: Latin, Cyrillic, digits and ASCII punctuation" (REFERENCE.md §2.5); a space is let through as punctuation.
    [GeneratedRegex(@"^[A-Za-z\u0400-\u04FF0-9 !-/:-@\[-`{-~]{2,255}$")]
    private static partial Regex ExternalTransactionPattern();
}

/// <summary>The payment endpoints (REFERENCE.md §2).</summary>
internal static class PaymentEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/payments", Create);
        api.MapGet("/payments", List);
        api.MapGet("/payments/{payment_id}", Get);
        api.MapDelete("/payments/{payment_id}", Cancel);
        api.MapPatch("/payments/{payment_id}", Patch);
        api.MapPost("/payments/{document_id}", CompleteByNumber);
    }

    /// <summary>Control endpoints: seed a payment, read payments and the corrections completion created.</summary>
    public static void MapControl(RouteGroupBuilder control)
    {
        control.MapPut("/payment-filters", (PaymentFilterSettings settings, PaymentStore store) =>
        {
            store.UndocumentedFilters = settings.Undocumented;
            return Results.NoContent();
        });
        control.MapPost("/payments", (SandboxPaymentSeed seed, PaymentStore store, AccountDirectory accounts) =>
        {
            if (seed.Total <= 0 || seed.AccountId <= 0 || !PaymentStatus.All.Contains(seed.Status) || seed.Currency is not { Length: 3 })
            {
                return Results.BadRequest(new { error = "total and accountId must be positive, status one of " + string.Join(", ", PaymentStatus.All) + ", currency an ISO code" });
            }

            // A payment is an account's: naming a new account registers it for the reseller, another reseller's is refused.
            if (accounts.Register(seed.AccountId, seed.ResellerId) is { } refused)
            {
                return Results.BadRequest(new { error = refused });
            }

            return Results.Created((string?)null, store.Add(seed, seed.TopUp ? "top-up payment" : "order payment").View());
        });
        control.MapGet("/payments", (string? number, string? id, PaymentStore store) => store.Views(number, id));
        control.MapPost("/payments/{id}/by-hand", (string id, SandboxHandChange change, PaymentStore store) =>
            store.RefuseHandChange(id, change) is { } refused
                ? Results.BadRequest(new { error = refused })
                : Results.Ok(store.ChangeByHand(id, change)!.View()));
        control.MapGet("/payment-corrections", (string? paymentId, PaymentStore store) => store.CorrectionViews(paymentId));
    }

    private static async Task<IResult> Create(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, PaymentStore store, AccountDirectory accounts)
    {
        var attributes = await AttributesAsync(context);
        if (attributes is null)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "param is missing or the value is empty: data");
        }

        foreach (var field in new[] { "account_id", "total", "comment" })
        {
            if (string.IsNullOrWhiteSpace(ApiJson.Text(attributes[field])))
            {
                return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, $"param is missing or the value is empty: {field}");
            }
        }

        if (!long.TryParse(ApiJson.Text(attributes["account_id"]), NumberStyles.None, CultureInfo.InvariantCulture, out var accountId) || accountId <= 0)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, AccountDirectory.MustExist);
        }

        if (!accounts.Owns(resellerId, accountId))
        {
            return AccountDirectory.UnknownInBody([accountId]);
        }

        if (Money(attributes["total"]) is not { } total || total <= 0)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "Total must be greater than 0");
        }

        var payment = store.CreateTopUp(resellerId, accountId, total, ApiJson.Text(attributes["comment"])!, ApiJson.Text(attributes["purpose"]));
        CallLog.SetKey(context, payment.Number);
        return ApiJson.Document(new JsonObject { ["data"] = payment.ToResource() }, StatusCodes.Status201Created);
    }

    private static IResult List(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, PaymentStore store)
    {
        var query = context.Request.Query;
        var filters = new List<Func<StoredPayment, bool>>();
        if (query["filter[document_id]"].ToString() is { Length: > 0 } documentId)
        {
            filters.Add(p => p.Number == documentId);
        }

        if (query["filter[account_id]"].ToString() is { Length: > 0 } account)
        {
            filters.Add(p => p.AccountId.ToString(CultureInfo.InvariantCulture) == account);
        }

        if (query["filter[status]"].ToString() is { Length: > 0 } status)
        {
            filters.Add(p => p.Status == status);
        }

        foreach (var (op, keep) in new (string, Func<int, bool>)[] { ("gt", c => c > 0), ("gte", c => c >= 0), ("lt", c => c < 0), ("lte", c => c <= 0) })
        {
            var text = query[$"filter[created_at][{op}]"].ToString();
            if (text.Length == 0 || (op != "gt" && store.UndocumentedFilters == UndocumentedFilters.Ignore))
            {
                continue;
            }

            if (op != "gt" && store.UndocumentedFilters == UndocumentedFilters.Reject)
            {
                return ApiJson.Error(StatusCodes.Status400BadRequest, $"filter[created_at][{op}] is not a supported filter");
            }

            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var bound))
            {
                return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, $"filter[created_at][{op}] is invalid");
            }

            filters.Add(p => keep(p.CreatedAt.CompareTo(bound)));
        }

        // Paged (cap, links, meta) like every list: the store's whole matching list, one page of it served.
        var all = store.List(resellerId, p => filters.All(f => f(p)), int.MaxValue, 1).Select(p => p!.AsObject()).ToList();
        return context.RequestServices.GetRequiredService<SandboxPaging>().Page(context, all);
    }

    private static IResult Get(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "payment_id")] string paymentId, PaymentStore store)
    {
        var include = context.Request.Query["include"].ToString();
        var document = ParseId(paymentId) is { } id
            ? store.Get(resellerId, id, include.Split(',').Contains("corrections", StringComparer.Ordinal))
            : null;
        return document is null ? ApiJson.Error(StatusCodes.Status404NotFound, PaymentStore.NotFound) : ApiJson.Document(document);
    }

    private static IResult Cancel(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "payment_id")] string paymentId, PaymentStore store)
    {
        CallLog.SetKey(context, paymentId);
        return Answer(ParseId(paymentId) is { } id ? store.Cancel(resellerId, id) : PaymentResult.Fail(StatusCodes.Status404NotFound, PaymentStore.NotFound));
    }

    /// <summary>Two variants on one URL (REFERENCE.md §2.4): <c>status: paid_from_balance</c>, else <c>payment_method_id</c>.</summary>
    private static async Task<IResult> Patch(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "payment_id")] string paymentId, PaymentStore store)
    {
        CallLog.SetKey(context, paymentId);
        var attributes = await AttributesAsync(context);
        if (ParseId(paymentId) is not { } id)
        {
            return ApiJson.Error(StatusCodes.Status404NotFound, PaymentStore.NotFound);
        }

        if (ApiJson.Text(attributes?["status"]) is { } status)
        {
            return status == PaymentStatus.PaidFromBalance
                ? Answer(store.PayFromBalance(resellerId, id))
                : ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "Status is not included in the list");
        }

        return MethodId(attributes) is { } method
            ? Answer(store.CompleteById(resellerId, id, method))
            : ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "param is missing or the value is empty: payment_method_id");
    }

    private static async Task<IResult> CompleteByNumber(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "document_id")] string documentId, PaymentStore store)
    {
        CallLog.SetKey(context, documentId);
        var attributes = await AttributesAsync(context);
        if (MethodId(attributes) is not { } method)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "param is missing or the value is empty: payment_method_id");
        }

        decimal? amount = null;
        if (attributes!["amount"] is { } amountNode)
        {
            if (Money(amountNode) is not { } parsed || parsed <= 0)
            {
                return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "Amount must be greater than 0");
            }

            amount = parsed;
        }

        return Answer(store.CompleteByNumber(resellerId, documentId, method, amount, ApiJson.Text(attributes["currency_code"]), ApiJson.Text(attributes["external_transaction_id"])));
    }

    private static IResult Answer(PaymentResult result) =>
        result.Payment is { } payment
            ? ApiJson.Document(new JsonObject { ["data"] = payment.ToResource() })
            : ApiJson.Error(result.Status, result.Error!);

    private static async Task<JsonObject?> AttributesAsync(HttpContext context)
    {
        var (ok, body) = await ApiJson.ReadBodyAsync(context);
        return ok ? ApiJson.DataAttributes(body) : null;
    }

    /// <summary>The docs type payment_method_id as a string (RG) and as an integer (7.8): both are read.</summary>
    private static long? MethodId(JsonObject? attributes) =>
        long.TryParse(ApiJson.Text(attributes?["payment_method_id"]), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;

    private static decimal? Money(JsonNode? node) =>
        decimal.TryParse(ApiJson.Text(node), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static long? ParseId(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
}
