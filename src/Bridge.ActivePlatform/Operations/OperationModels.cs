using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Operations;

// Inferred: every body below. The request pages of these endpoints were not read (api-coverage.txt lists the endpoints
// only); each is sent in envelope style A, {"data":{"attributes":{…}}}, the envelope of every documented write with a
// JSON:API resource (payments, corrections, currency rates — REFERENCE.md §0), with the members of the documented objects
// they change. A member left null is not sent.

/// <summary>Body of <c>POST accounts</c> (name and email required) and <c>PATCH accounts/{id}</c> (the members to change).</summary>
public sealed record AccountWrite
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Name { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? PrimaryName { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FirstName { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MiddleName { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? LastName { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Country { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Region { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? City { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Street { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Building { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Office { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Zip { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Phone { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Email { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? CustomAttributes { get; init; }
}

/// <summary>Body of <c>PATCH subscriptions/{id}</c>: its name and/or renewal settings.</summary>
public sealed record SubscriptionWrite
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Name { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public RenewalSettingsWrite? RenewalSettings { get; init; }
}

/// <summary>The members of the documented <c>renewal_settings</c> object.</summary>
public sealed record RenewalSettingsWrite
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? Autorenew { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? DisableAutorenew { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? AutorenewPoint { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? ManualRenewPoint { get; init; }
}

/// <summary>Body of <c>POST sales_order</c>: a new subscription for an account, on a plan period.</summary>
public sealed record SalesOrderWrite
{
    public required long AccountId { get; init; }
    public required long PlanPeriodId { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<OrderResourceWrite>? Resources { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? PromoCode { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Comment { get; init; }

    /// <summary>The plugin's order attributes, as validated by <c>order_attributes_validation</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, JsonElement>? OrderAttributes { get; init; }
}

/// <summary>Body of <c>POST switch_order</c>: the subscription moves to a period of another plan (see switchable_plans).</summary>
public sealed record SwitchOrderWrite
{
    public required long SubscriptionId { get; init; }
    public required long PlanPeriodId { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Comment { get; init; }
}

/// <summary>Body of <c>POST change_order</c>: new amounts of the subscription's resources.</summary>
public sealed record ChangeOrderWrite
{
    public required long SubscriptionId { get; init; }
    public required IReadOnlyList<OrderResourceWrite> Resources { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Comment { get; init; }
}

/// <summary>Body of <c>POST renewal_order</c>: the subscription renewed for its period.</summary>
public sealed record RenewalOrderWrite
{
    public required long SubscriptionId { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Comment { get; init; }
}

/// <summary>Body of <c>POST prolong_order</c>: the subscription prolonged to a date.</summary>
public sealed record ProlongOrderWrite
{
    public required long SubscriptionId { get; init; }
    public required DateOnly ExpirationDate { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Comment { get; init; }
}

/// <summary>A resource line of an order: the resource and its amount (a JSON number).</summary>
public sealed record OrderResourceWrite
{
    public required long ResourceId { get; init; }
    public required decimal Amount { get; init; }
}

/// <summary>Body of <c>POST managers</c> (name, email, role required) and <c>PATCH managers/{id}</c> (the members to change).</summary>
public sealed record ManagerWrite
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Name { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Email { get; init; }

    /// <summary>A key of <c>manager_roles</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Role { get; init; }

    /// <summary><c>active</c> or <c>blocked</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Status { get; init; }
}

/// <summary>Body of <c>POST notes</c>.</summary>
public sealed record NoteWrite
{
    public required long AccountId { get; init; }
    public required string Text { get; init; }
}

/// <summary>Body of <c>POST free_access_documents</c> and <c>PUT free_access_documents/{id}</c> (a full replacement).</summary>
public sealed record FreeAccessDocumentWrite
{
    public required string Name { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Description { get; init; }
    public required string FileName { get; init; }

    /// <summary>A data URI, <c>data:application/pdf;base64,…</c>, as closing documents carry their files.</summary>
    public required string File { get; init; }

    public override string ToString() => $"FreeAccessDocumentWrite {{ Name = {Name}, FileName = {FileName}, File = {File.Length} chars }}";
}

/// <summary>
/// Body of <c>POST plans/{id}/order_attributes_validation</c>: documented to hold <c>account_id</c> and the plugin's attributes
/// (<c>customer_domain</c>, <c>is_new_domain</c>, …, REFERENCE.md §5); they are sent beside it, in the same attributes.
/// </summary>
public sealed record OrderAttributesValidationWrite
{
    public required long AccountId { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? PluginAttributes { get; set; }
}

/// <summary>Body of <c>PATCH vendor/subscriptions/{id}/close_charges</c>: close the open charges begun on or before the date.</summary>
public sealed record CloseChargesWrite
{
    public required DateOnly CloseDate { get; init; }
}

/// <summary>
/// A Customer Store product (<c>products</c>). Inferred: the Customer Store pages were not read; the attributes are what the
/// documented plan object says of its product (<c>product_id</c>, <c>product</c>, <c>product_category_id</c>).
/// </summary>
public sealed record Product : JsonApiResource
{
    public ProductAttributes Attributes { get; set; } = new();
}

// inferred: every field below.
public sealed record ProductAttributes
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public long? ProductCategoryId { get; set; }
    public bool? Public { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A Customer Store product category (<c>product_categories</c>). Inferred, as <see cref="Product"/>.</summary>
public sealed record ProductCategory : JsonApiResource
{
    public ProductCategoryAttributes Attributes { get; set; } = new();
}

// inferred: every field below.
public sealed record ProductCategoryAttributes
{
    public string? Name { get; set; }
    public int? Position { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>
/// The customer user a user token belongs to (<c>GET user_authentication/token</c>, a <c>users</c> resource). Inferred: the
/// attributes are the documented account <c>owner</c> member's, with the account and reseller.
/// </summary>
public sealed record User : JsonApiResource
{
    public UserAttributes Attributes { get; set; } = new();
}

// inferred: the owner member's fields are documented (account example); account_id and reseller_id are not.
public sealed record UserAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public string? Email { get; set; }
    public string? AccountStatus { get; set; }
    public string? GlobalStatus { get; set; }
    public string? FirstName { get; set; }
    public string? MiddleName { get; set; }
    public string? LastName { get; set; }
    public long? AccountId { get; set; }
    public long? ResellerId { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
