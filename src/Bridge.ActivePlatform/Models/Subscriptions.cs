using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.ActivePlatform.Models;

public sealed record Subscription : JsonApiResource
{
    public SubscriptionAttributes Attributes { get; set; } = new();

    /// <summary>Present with <c>meta=true</c>: plugin-specific attributes of the subscription.</summary>
    public SubscriptionMeta? Meta { get; set; }
}

public sealed record SubscriptionAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public long? PlanId { get; set; }
    public long? AccountId { get; set; }
    public string? Name { get; set; }
    public bool? Trial { get; set; }
    public string? Status { get; set; }
    public DateOnly? StartDate { get; set; }
    public DateOnly? ExpirationDate { get; set; }
    public long? PlanPeriodId { get; set; }
    public string? PromoCode { get; set; }
    public string? PaymentModel { get; set; }
    public PaymentModelParameters? PaymentModelParameters { get; set; }
    public RenewalSettings? RenewalSettings { get; set; }
    public bool? FixedPrice { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>Postpaid subscriptions only; empty (<c>{}</c>) for prepaid ones.</summary>
public sealed record PaymentModelParameters
{
    public ApiDecimal? CreditLimit { get; set; }
    public ApiDecimal? CurrentDebt { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record RenewalSettings
{
    public bool? Autorenew { get; set; }
    public bool? DisableAutorenew { get; set; }
    public int? AutorenewPoint { get; set; }
    public int? ManualRenewPoint { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record SubscriptionMeta
{
    /// <summary>One entry per application; the keys depend on the plugin (vendor service, Office 365, …).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, JsonElement>>? Applications { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A subscription's resource (<c>subscription_resources</c>): a quota line of the subscription.</summary>
public sealed record SubscriptionResource : JsonApiResource
{
    public SubscriptionResourceAttributes Attributes { get; set; } = new();
}

/// <summary>A plan's resource (<c>plan_resources</c>), nested in a plan.</summary>
public sealed record PlanResource : JsonApiResource
{
    public PlanResourceAttributes Attributes { get; set; } = new();
}

public record PlanResourceAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public string? Name { get; set; }
    public bool? Measurable { get; set; }
    public string? UnitOfMeasure { get; set; }
    public string? ApplicationTemplateName { get; set; }
    public ApiDecimal? Included { get; set; }
    public ApiDecimal? Minimum { get; set; }
    public ApiDecimal? Limit { get; set; }
    public ApiDecimal? SetupFee { get; set; }
    public ApiDecimal? RecurringFee { get; set; }
    public ApiDecimal? OveruseFee { get; set; }
    public ApiDecimal? RenewalFee { get; set; }
    public bool? UnlimitedUnits { get; set; }
    public bool? Public { get; set; }
    public string? Status { get; set; }
    public long? ResourceId { get; set; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record SubscriptionResourceAttributes : PlanResourceAttributes
{
    public ApiDecimal? Additional { get; set; }
    public int? Priority { get; set; }
}

/// <summary>The period a subscription was ordered for (<c>subscription_periods</c>).</summary>
public sealed record SubscriptionPeriod : JsonApiResource
{
    public SubscriptionPeriodAttributes Attributes { get; set; } = new();
}

/// <summary>A period a plan offers (<c>plan_periods</c>), nested in a plan.</summary>
public sealed record PlanPeriod : JsonApiResource
{
    public PlanPeriodAttributes Attributes { get; set; } = new();
}

public record PlanPeriodAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public int? DurationValue { get; set; }
    public string? DurationType { get; set; }
    public ApiDecimal? SetupFee { get; set; }
    public ApiDecimal? RecurringFee { get; set; }
    public ApiDecimal? TransferFee { get; set; }
    public ApiDecimal? RenewalFee { get; set; }
    public bool? Trial { get; set; }
    public bool? Public { get; set; }
    public string? Status { get; set; }
    public string? Description { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record SubscriptionPeriodAttributes : PlanPeriodAttributes
{
    public bool? Endless { get; set; }
}

public sealed record Plan : JsonApiResource
{
    public PlanAttributes Attributes { get; set; } = new();
}

public sealed record PlanAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public string? Status { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public bool? Public { get; set; }
    public long? PlanClassId { get; set; }
    public long? ProductId { get; set; }
    public string? BillingType { get; set; }
    public string? Ancestry { get; set; }
    public long? ResellerId { get; set; }
    public bool? FixedPrice { get; set; }
    public string? PlanClass { get; set; }
    public long? ProductCategoryId { get; set; }
    public string? ProductCategory { get; set; }
    public string? Product { get; set; }
    public JsonApiDocument<PlanResource>? PlanResources { get; set; }
    public JsonApiDocument<PlanPeriod>? PlanPeriods { get; set; }
    public IReadOnlyList<AccountType>? AvailableAccountTypes { get; set; }
    public string? PlanCurrency { get; set; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
