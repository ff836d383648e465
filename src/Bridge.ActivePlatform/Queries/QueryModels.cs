using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Queries;

/// <summary>
/// A charge (<c>charges</c>): a line an invoice is built from, and so an input of the ERP's closing documents. No public
/// page read for this client shows the charge model; the attributes are those a public support script reads from
/// <c>GET invoices/{id}?include=charges</c> (REFERENCE.md §8, [UNOFFICIAL]) — inferred: names and types, not documented.
/// Unknown members are kept in <see cref="ChargeAttributes.ExtensionData"/>.
/// </summary>
public sealed record Charge : JsonApiResource
{
    public ChargeAttributes Attributes { get; set; } = new();
}

// inferred: every field below is from the unofficial support script, not from the API docs.
public sealed record ChargeAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public long? AccountId { get; set; }
    public long? SubscriptionId { get; set; }
    public long? InvoiceId { get; set; }
    public string? Status { get; set; }
    public string? ApplicationTemplateKey { get; set; }
    public string? Description { get; set; }
    public DateOnly? OperateFrom { get; set; }
    public DateOnly? OperateTo { get; set; }
    public DateOnly? CloseDate { get; set; }
    public DateOnly? BillingDate { get; set; }
    public ApiDecimal? Quantity { get; set; }
    public ApiDecimal? Duration { get; set; }
    public ApiDecimal? UnitPrice { get; set; }
    public ApiDecimal? NetCost { get; set; }
    public ApiDecimal? Amount { get; set; }
    public string? CurrencyUnit { get; set; }

    /// <summary>Plugin-specific parameters (tenant_id, sku_id, term_duration, …), kept as sent.</summary>
    public JsonElement? AdditionalParams { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>
/// An order (<c>orders</c>): sales, change, renewal, prolong or switch. The order model was not read from the public docs
/// (api-coverage.txt lists the endpoints only) — inferred: the attributes below follow the payment and subscription models
/// and the order kinds the create endpoints name. Unknown members are kept in <see cref="OrderAttributes.ExtensionData"/>.
/// </summary>
public sealed record Order : JsonApiResource
{
    public OrderAttributes Attributes { get; set; } = new();
}

// inferred: every field below.
public sealed record OrderAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }

    /// <summary>The order number (<c>document_id</c>, as payments and invoices name theirs).</summary>
    public string? DocumentId { get; set; }

    /// <summary><c>sales_order</c>, <c>change_order</c>, <c>renewal_order</c>, <c>prolong_order</c>, <c>switch_order</c>.</summary>
    public string? OrderType { get; set; }

    public string? Status { get; set; }
    public long? AccountId { get; set; }
    public long? ManagerId { get; set; }
    public ApiDecimal? Total { get; set; }
    public string? CurrencyCode { get; set; }
    public string? Comment { get; set; }
    public ApiTimestamp? ProcessedAt { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A reseller (<c>resellers</c>): the token's own or a downstream one. Inferred: the reseller model was not read from the public docs.</summary>
public sealed record Reseller : JsonApiResource
{
    public ResellerAttributes Attributes { get; set; } = new();
}

// inferred: every field below.
public sealed record ResellerAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public string? Name { get; set; }
    public string? Status { get; set; }
    public long? ParentId { get; set; }
    public string? CurrencyIsoCode { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A manager (<c>managers</c>): the attributes an account's documented <c>manager</c> member has.</summary>
public sealed record Manager : JsonApiResource
{
    public ManagerAttributes Attributes { get; set; } = new();
}

public sealed record ManagerAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public long? ResellerId { get; set; }
    public string? Name { get; set; }
    public string? Status { get; set; }
    public string? Email { get; set; }
    public string? Role { get; set; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
