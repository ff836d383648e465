using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>A postpaid invoice with its linked payment, as the ERP-managed flow sees it (REFERENCE.md §6).</summary>
internal sealed record StoredInvoice(
    long Id,
    int ResellerId,
    long AccountId,
    DateOnly FromDate,
    DateOnly ToDate,
    decimal Total,
    string PaymentModel,
    string Status,
    string DocumentId,
    string PlatformDocumentId,
    bool Approved,
    DateOnly? ApprovalDate,
    long PaymentId,
    string PaymentStatus,
    DateOnly? PaymentDueDate,
    decimal? ExternalTotal,
    string? ExternalCurrency,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public JsonObject ToJson() => new()
    {
        ["data"] = new JsonObject
        {
            ["id"] = Id.ToString(CultureInfo.InvariantCulture),
            ["type"] = "invoices",
            ["attributes"] = new JsonObject
            {
                ["created_at"] = ApiJson.Timestamp(CreatedAt),
                ["updated_at"] = ApiJson.Timestamp(UpdatedAt),
                ["document_id"] = DocumentId,
                ["status"] = Status,
                ["total"] = ApiJson.Money(Total),
                ["account_id"] = AccountId,
                ["from_date"] = ApiJson.Date(FromDate),
                ["to_date"] = ApiJson.Date(ToDate),
                ["payment_model"] = PaymentModel,
                // The documented example sends the boolean as a string.
                ["approved"] = Approved ? "true" : "false",
            },
            ["relationships"] = new JsonObject
            {
                ["subscriptions"] = new JsonObject { ["data"] = new JsonArray() },
                ["payments"] = new JsonObject { ["data"] = new JsonArray(new JsonObject { ["id"] = PaymentId.ToString(CultureInfo.InvariantCulture), ["type"] = "payments" }) },
                ["charges"] = new JsonObject { ["data"] = new JsonArray() },
                ["corrections"] = new JsonObject { ["data"] = new JsonArray() },
            },
        },
    };

    public SandboxInvoice View() => new(
        Id.ToString(CultureInfo.InvariantCulture), ResellerId, AccountId, FromDate, ToDate, ApiJson.Money(Total), PaymentModel, Status,
        DocumentId, PlatformDocumentId, Approved, ApprovalDate, PaymentId.ToString(CultureInfo.InvariantCulture), PaymentStatus, PaymentDueDate,
        ExternalTotal is { } total ? ApiJson.Money(total) : null, ExternalCurrency);
}

internal enum InvoiceOperation
{
    Approve,
    Complete,
    Revoke,
}

/// <summary>
/// The documented state machine: closed + unapproved → approved (the payment gets a due date, the invoice takes the ERP's
/// document_id) → completed (the payment completes); revoke returns an approved invoice to unapproved. Seeded with postpaid
/// invoices of reseller 1; tests add their own through the control API.
/// </summary>
internal sealed class InvoiceStore
{
    public static readonly DateOnly SeedBillingDate = new(2026, 10, 1);

    private readonly Lock _gate = new();
    private readonly Dictionary<long, StoredInvoice> _invoices = [];
    private long _lastId = 2045;
    private long _lastPaymentId = 12200;

    private readonly EffectLedger _ledger;
    private readonly PaymentStore _payments;

    public InvoiceStore(SandboxClock clock, EffectLedger ledger, PaymentStore payments)
    {
        _ledger = ledger;
        _payments = payments;
        var now = clock.Now;
        // Reseller 1's accounts (Catalog): 167 closed and payable, 523 with a cancelled payment, 685 still open.
        Seed(new SandboxInvoiceSeed { ResellerId = 1, AccountId = 167, BillingDate = SeedBillingDate, Total = 987.65m }, now);
        Seed(new SandboxInvoiceSeed { ResellerId = 1, AccountId = 523, BillingDate = SeedBillingDate, Total = 120.00m, PaymentStatus = "cancelled" }, now);
        Seed(new SandboxInvoiceSeed { ResellerId = 1, AccountId = 685, BillingDate = SeedBillingDate, Total = 45.10m, Status = "open" }, now);
    }

    public StoredInvoice Seed(SandboxInvoiceSeed seed, DateTimeOffset now)
    {
        lock (_gate)
        {
            var id = ++_lastId;
            var documentId = FormattableString.Invariant($"INV-{id:D6}");
            var paymentId = seed.LinkedPayment
                ? _payments.Add(new SandboxPaymentSeed
                {
                    ResellerId = seed.ResellerId, AccountId = seed.AccountId, Total = seed.Total, Status = seed.PaymentStatus,
                    LinkedInvoiceId = id.ToString(CultureInfo.InvariantCulture),
                }, "postpaid invoice payment").Id
                : ++_lastPaymentId;
            var invoice = new StoredInvoice(
                id, seed.ResellerId, seed.AccountId, seed.BillingDate, seed.BillingDate.AddMonths(1).AddDays(-1), seed.Total,
                seed.PaymentModel, seed.Status, documentId, documentId, false, null, paymentId, seed.PaymentStatus, null, null, null, now, now);
            _invoices.Add(id, invoice);
            return invoice;
        }
    }

    public IReadOnlyList<StoredInvoice> All()
    {
        lock (_gate)
        {
            return [.. _invoices.Values.OrderBy(i => i.Id).Select(WithPaymentStatus)];
        }
    }

    /// <summary>An invoice whose linked payment is one of the payment store's shows that payment's status.</summary>
    private StoredInvoice WithPaymentStatus(StoredInvoice invoice)
        => _payments.LinkedStatusOf(invoice.ResellerId, invoice.PaymentId, invoice.Id.ToString(CultureInfo.InvariantCulture)) is { } status ? invoice with { PaymentStatus = status } : invoice;

    /// <summary>Applies an operation under the lock; the error is ActivePlatform's documented answer when it refuses.</summary>
    public (StoredInvoice? Invoice, IResult? Error) Apply(
        int resellerId, long? accountId, long? invoiceId, InvoiceOperation operation, InvoiceRequest request, DateTimeOffset now)
    {
        lock (_gate)
        {
            StoredInvoice? invoice;
            if (invoiceId is { } id)
            {
                if (!_invoices.TryGetValue(id, out invoice) || invoice.ResellerId != resellerId)
                {
                    return (null, InvoiceErrors.NotFound());
                }

                if (invoice.FromDate != request.BillingDate)
                {
                    return (null, InvoiceErrors.BillingDate());
                }
            }
            else
            {
                var ofAccount = _invoices.Values.Where(i => i.ResellerId == resellerId && i.AccountId == accountId).ToList();
                if (ofAccount.Count == 0)
                {
                    return (null, InvoiceErrors.NotFound());
                }

                // The "by account" variants are for accounts with a single invoice in the period (documented). Inferred: with
                // several, the oldest is the one acted on — the docs name no error for it.
                invoice = ofAccount.OrderBy(i => i.Id).FirstOrDefault(i => i.FromDate == request.BillingDate);
                if (invoice is null)
                {
                    return (null, InvoiceErrors.BillingDate());
                }
            }

            invoice = WithPaymentStatus(invoice);
            if (Refusal(invoice, operation, request) is { } refusal)
            {
                return (null, refusal);
            }

            var updated = operation switch
            {
                InvoiceOperation.Approve => invoice with
                {
                    Approved = true,
                    ApprovalDate = DateOnly.FromDateTime(now.DateTime),
                    DocumentId = request.DocumentId,
                    // "An invoice … is considered approved only if the linked payment has the due date." [INFERRED default: 14 days]
                    PaymentDueDate = request.DueDate ?? DateOnly.FromDateTime(now.DateTime).AddDays(14),
                    ExternalTotal = request.ExternalTotal ?? invoice.ExternalTotal,
                    ExternalCurrency = request.ExternalCurrency ?? invoice.ExternalCurrency,
                    UpdatedAt = now,
                },
                InvoiceOperation.Complete => invoice.PaymentStatus == "completed" ? invoice : invoice with { PaymentStatus = "completed", UpdatedAt = now },
                _ => invoice with
                {
                    // As the support script's cancel_external_erp_approve does (REFERENCE.md §6, UNOFFICIAL).
                    Approved = false,
                    ApprovalDate = null,
                    DocumentId = invoice.PlatformDocumentId,
                    PaymentDueDate = null,
                    ExternalTotal = null,
                    ExternalCurrency = null,
                    UpdatedAt = now,
                },
            };
            _invoices[invoice.Id] = updated;
            var invoiceKey = invoice.Id.ToString(CultureInfo.InvariantCulture);
            switch (operation)
            {
                case InvoiceOperation.Complete:
                    // "complete … completes the linked payment" (REFERENCE.md §6 step 4).
                    _payments.CompleteLinked(resellerId, invoice.PaymentId, invoiceKey);
                    break;
                case InvoiceOperation.Approve:
                    // "This sets the due date on the linked payment" (§6 step 3), with the third-party amount and currency.
                    _payments.SetLinkedTerms(resellerId, invoice.PaymentId, invoiceKey, updated.PaymentDueDate, updated.ExternalTotal, updated.ExternalCurrency);
                    break;
                default:
                    _payments.SetLinkedTerms(resellerId, invoice.PaymentId, invoiceKey, null, null, null);
                    break;
            }

            if (updated != invoice)
            {
                _ledger.Record(resellerId, operation switch
                {
                    InvoiceOperation.Approve => EffectKinds.InvoiceApproved,
                    InvoiceOperation.Complete => EffectKinds.InvoiceCompleted,
                    _ => EffectKinds.InvoiceRevoked,
                }, invoice.Id.ToString(CultureInfo.InvariantCulture), ("documentId", request.DocumentId), ("accountId", invoice.AccountId.ToString(CultureInfo.InvariantCulture)));
            }

            return (updated, null);
        }
    }

    private static IResult? Refusal(StoredInvoice invoice, InvoiceOperation operation, InvoiceRequest request)
    {
        // Documented for complete; the same preconditions are applied to approve and revoke [INFERRED].
        if (invoice.PaymentModel != "postpay")
        {
            return InvoiceErrors.Error("INVOICE-0010", "Only postpaid invoice can be completed");
        }

        if (invoice.Status != "closed")
        {
            return InvoiceErrors.Error("INVOICE-0011", "Only closed invoice can be completed");
        }

        if (invoice.Total == 0)
        {
            return InvoiceErrors.Error("INVOICE-0012", "Only non-zero invoice can be completed");
        }

        var sameDocument = string.Equals(invoice.DocumentId, request.DocumentId, StringComparison.Ordinal);
        switch (operation)
        {
            case InvoiceOperation.Approve:
                if (invoice.PaymentStatus == "cancelled")
                {
                    return InvoiceErrors.Error("INVOICE-0017", "Payment related to this invoice has been cancelled. Invoice approval is not possible");
                }

                if (invoice.PaymentStatus == "completed")
                {
                    return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "Invoice is already completed"); // [INFERRED]
                }

                // Approving again with the same document id repeats the approval; another id needs a revoke first [INFERRED].
                return invoice.Approved && !sameDocument ? InvoiceErrors.DocumentId() : null;

            case InvoiceOperation.Complete:
                if (invoice.PaymentStatus == "cancelled")
                {
                    return InvoiceErrors.Error("INVOICE-0017", "Payment related to this invoice has been cancelled. Invoice completion is not possible");
                }

                // Unapproved, the invoice still has the platform's number, so the ERP's document id does not match.
                return !invoice.Approved || !sameDocument ? InvoiceErrors.DocumentId() : null;

            default:
                if (invoice.PaymentStatus is "completed" or "cancelled")
                {
                    // Documented as "not available"; the answer is not [INFERRED].
                    return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, $"Invoice approval cannot be revoked: the linked payment is {invoice.PaymentStatus}");
                }

                return !invoice.Approved || !sameDocument ? InvoiceErrors.DocumentId() : null;
        }
    }
}

internal sealed record InvoiceRequest(string DocumentId, DateOnly BillingDate, DateOnly? DueDate, decimal? ExternalTotal, string? ExternalCurrency);

/// <summary>The documented "Status / Error code / Error text" table, in the inferred JSON shape (REFERENCE.md §0).</summary>
internal static class InvoiceErrors
{
    public static IResult Error(string code, string title, int status = StatusCodes.Status400BadRequest)
    {
        var body = ApiJson.ErrorBody(status, title);
        body["errors"]!["code"] = code;
        return ApiJson.Document(body, status);
    }

    public static IResult Required() => Error("INVOICE-0001", "Required parameters are not provided");

    public static IResult BillingDate() => Error("INVOICE-0005", "Incorrect specified billing date for the invoice");

    public static IResult DocumentId() => Error("INVOICE-0006", "Incorrect specified document_id for the invoice");

    /// <summary>The docs' code is cut off after "INVOIC"; none is invented here.</summary>
    public static IResult NotFound() => ApiJson.Error(StatusCodes.Status404NotFound, "Invoice not found");
}

/// <summary>The invoice-management endpoints (REFERENCE.md §6); all POST, flat bodies (a data/attributes envelope is read too).</summary>
internal static class InvoiceEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/accounts/{account_id:long}/approve_invoices", (HttpContext c, [FromRoute(Name = "reseller_id")] int r, [FromRoute(Name = "account_id")] long a, InvoiceStore s, SandboxClock k)
            => HandleAsync(c, r, a, null, InvoiceOperation.Approve, s, k)).AddEndpointFilter(AccountDirectory.RequireOwnedAccount);
        api.MapPost("/invoices/{id}/approve", (HttpContext c, [FromRoute(Name = "reseller_id")] int r, string id, InvoiceStore s, SandboxClock k)
            => HandleAsync(c, r, null, id, InvoiceOperation.Approve, s, k));
        api.MapPost("/accounts/{account_id:long}/complete_invoices", (HttpContext c, [FromRoute(Name = "reseller_id")] int r, [FromRoute(Name = "account_id")] long a, InvoiceStore s, SandboxClock k)
            => HandleAsync(c, r, a, null, InvoiceOperation.Complete, s, k)).AddEndpointFilter(AccountDirectory.RequireOwnedAccount);
        api.MapPost("/invoices/{id}/complete", (HttpContext c, [FromRoute(Name = "reseller_id")] int r, string id, InvoiceStore s, SandboxClock k)
            => HandleAsync(c, r, null, id, InvoiceOperation.Complete, s, k));
        api.MapPost("/invoices/{id}/revoke", (HttpContext c, [FromRoute(Name = "reseller_id")] int r, string id, InvoiceStore s, SandboxClock k)
            => HandleAsync(c, r, null, id, InvoiceOperation.Revoke, s, k));
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context, int resellerId, long? accountId, string? id, InvoiceOperation operation, InvoiceStore store, SandboxClock clock)
    {
        long? invoiceId = null;
        if (id is not null)
        {
            if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return InvoiceErrors.NotFound();
            }

            invoiceId = parsed;
        }

        var (ok, body) = await ApiJson.ReadBodyAsync(context);
        var attributes = ok ? ApiJson.Flat(body) : null;
        var documentId = ApiJson.Text(attributes?["document_id"]);
        var billingText = ApiJson.Text(attributes?["billing_date"]);
        if (string.IsNullOrWhiteSpace(documentId) || string.IsNullOrWhiteSpace(billingText))
        {
            return InvoiceErrors.Required();
        }

        if (!DateOnly.TryParseExact(billingText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var billingDate))
        {
            return InvoiceErrors.BillingDate();
        }

        DateOnly? dueDate = null;
        if (ApiJson.Text(attributes?["due_date"]) is { } dueText)
        {
            if (!DateOnly.TryParseExact(dueText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var due))
            {
                return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "Due date is invalid");
            }

            dueDate = due;
        }

        decimal? externalTotal = null;
        if (ApiJson.Text(attributes?["external_total"]) is { } totalText)
        {
            if (!decimal.TryParse(totalText, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var total))
            {
                return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "External total is not a number");
            }

            externalTotal = total;
        }

        var request = new InvoiceRequest(documentId, billingDate, dueDate, externalTotal, ApiJson.Text(attributes?["external_currency"]));
        var (invoice, error) = store.Apply(resellerId, accountId, invoiceId, operation, request, clock.Now);
        return error ?? ApiJson.Document(invoice!.ToJson());
    }
}

/// <summary>An invoice to add through <c>POST /_sandbox/invoices</c>; defaults make a closed, unapproved postpaid invoice.</summary>
public sealed record SandboxInvoiceSeed
{
    public int ResellerId { get; init; } = 1;

    public long AccountId { get; init; }

    public DateOnly BillingDate { get; init; }

    public decimal Total { get; init; } = 100m;

    public string PaymentModel { get; init; } = "postpay";

    public string Status { get; init; } = "closed";

    /// <summary>The linked payment's status: <c>waiting_for_payment</c>, <c>completed</c> or <c>cancelled</c>.</summary>
    public string PaymentStatus { get; init; } = "waiting_for_payment";

    /// <summary>
    /// The linked payment is one of the sandbox's payments (<c>GET payments/{id}</c> shows it, with the invoice in its
    /// relationships; it can be completed by id), and completing the invoice completes it. Otherwise it is kept with the invoice only.
    /// </summary>
    public bool LinkedPayment { get; init; }
}

/// <summary>An invoice with its linked payment as the control API shows it (<c>GET /_sandbox/invoices</c>).</summary>
public sealed record SandboxInvoice(
    string Id,
    int ResellerId,
    long AccountId,
    DateOnly FromDate,
    DateOnly ToDate,
    string Total,
    string PaymentModel,
    string Status,
    string DocumentId,
    string PlatformDocumentId,
    bool Approved,
    DateOnly? ApprovalDate,
    string PaymentId,
    string PaymentStatus,
    DateOnly? PaymentDueDate,
    string? ExternalTotal,
    string? ExternalCurrency);
