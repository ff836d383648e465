using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.ActivePlatform.Models;

public sealed record Subscription : JsonApiResource
{
    public SubscriptionAttributes Attributes { get; init; } = new();

    /// <summary>Present with <c>meta=true</c>: plugin-specific attributes of the subscription.</summary>
    public SubscriptionMeta? Meta { get; init; }
}

public sealed record SubscriptionAttributes
{
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public long? PlanId { get; init; }
    public long? AccountId { get; init; }
    public string? Name { get; init; }
    public bool? Trial { get; init; }
    public string? Status { get; init; }
    public DateOnly? StartDate { get; init; }
    public DateOnly? ExpirationDate { get; init; }
    public long? PlanPeriodId { get; init; }
    public string? PromoCode { get; init; }
    public string? PaymentModel { get; init; }
    public PaymentModelParameters? PaymentModelParameters { get; init; }
    public RenewalSettings? RenewalSettings { get; init; }
    public bool? FixedPrice { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>Postpaid subscriptions only; empty (<c>{}</c>) for prepaid ones.</summary>
public sealed record PaymentModelParameters
{
    public decimal? CreditLimit { get; init; }
    public decimal? CurrentDebt { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record RenewalSettings
{
    public bool? Autorenew { get; init; }
    public bool? DisableAutorenew { get; init; }
    public int? AutorenewPoint { get; init; }
    public int? ManualRenewPoint { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record SubscriptionMeta
{
    /// <summary>One entry per application; the keys depend on the plugin (vendor service, Office 365, …).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, JsonElement>>? Applications { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A subscription's resource (<c>subscription_resources</c>): a quota line of the subscription.</summary>
public sealed record SubscriptionResource : JsonApiResource
{
    public SubscriptionResourceAttributes Attributes { get; init; } = new();
}

/// <summary>A plan's resource (<c>plan_resources</c>), nested in a plan.</summary>
public sealed record PlanResource : JsonApiResource
{
    public PlanResourceAttributes Attributes { get; init; } = new();
}

public record PlanResourceAttributes
{
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public string? Name { get; init; }
    public bool? Measurable { get; init; }
    public string? UnitOfMeasure { get; init; }
    public string? ApplicationTemplateName { get; init; }
    public decimal? Included { get; init; }
    public decimal? Minimum { get; init; }
    public decimal? Limit { get; init; }
    public decimal? SetupFee { get; init; }
    public decimal? RecurringFee { get; init; }
    public decimal? OveruseFee { get; init; }
    public decimal? RenewalFee { get; init; }
    public bool? UnlimitedUnits { get; init; }
    public bool? Public { get; init; }
    public string? Status { get; init; }
    public long? ResourceId { get; init; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record SubscriptionResourceAttributes : PlanResourceAttributes
{
    public decimal? Additional { get; init; }
    public int? Priority { get; init; }
}

/// <summary>The period a subscription was ordered for (<c>subscription_periods</c>).</summary>
public sealed record SubscriptionPeriod : JsonApiResource
{
    public SubscriptionPeriodAttributes Attributes { get; init; } = new();
}

/// <summary>A period a plan offers (<c>plan_periods</c>), nested in a plan.</summary>
public sealed record PlanPeriod : JsonApiResource
{
    public PlanPeriodAttributes Attributes { get; init; } = new();
}

public record PlanPeriodAttributes
{
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public int? DurationValue { get; init; }
    public string? DurationType { get; init; }
    public decimal? SetupFee { get; init; }
    public decimal? RecurringFee { get; init; }
    public decimal? TransferFee { get; init; }
    public decimal? RenewalFee { get; init; }
    public bool? Trial { get; init; }
    public bool? Public { get; init; }
    public string? Status { get; init; }
    public string? Description { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record SubscriptionPeriodAttributes : PlanPeriodAttributes
{
    public bool? Endless { get; init; }
}

public sealed record Plan : JsonApiResource
{
    public PlanAttributes Attributes { get; init; } = new();
}

public sealed record PlanAttributes
{
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public string? Status { get; init; }
    public string? Name { get; init; }
    public string? Description { get; init; }
    public bool? Public { get; init; }
    public long? PlanClassId { get; init; }
    public long? ProductId { get; init; }
    public string? BillingType { get; init; }
    public string? Ancestry { get; init; }
    public long? ResellerId { get; init; }
    public bool? FixedPrice { get; init; }
    public string? PlanClass { get; init; }
    public long? ProductCategoryId { get; init; }
    public string? ProductCategory { get; init; }
    public string? Product { get; init; }
    public JsonApiDocument<PlanResource>? PlanResources { get; init; }
    public JsonApiDocument<PlanPeriod>? PlanPeriods { get; init; }
    public IReadOnlyList<AccountType>? AvailableAccountTypes { get; init; }
    public string? PlanCurrency { get; init; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
