using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.ActivePlatform.Models;

/// <summary>An account (<c>accounts</c>), as <c>GET child_reseller_accounts/{id}</c> and <c>include=account</c> return it.</summary>
public sealed record Account : JsonApiResource
{
    public AccountAttributes Attributes { get; init; } = new();
}

public sealed record AccountAttributes
{
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public long? ResellerId { get; init; }
    public string? Name { get; init; }
    public long? AccountClassId { get; init; }
    public string? PrimaryName { get; init; }
    public string? FirstName { get; init; }
    public string? MiddleName { get; init; }
    public string? LastName { get; init; }
    public string? Country { get; init; }
    public string? Region { get; init; }
    public string? City { get; init; }
    public string? Street { get; init; }
    public string? Building { get; init; }
    public string? Office { get; init; }
    public string? Zip { get; init; }
    public string? Phone { get; init; }
    public string? Email { get; init; }
    public string? Status { get; init; }
    public decimal? Balance { get; init; }
    public decimal? UsableBalance { get; init; }
    public decimal? CurrentDebt { get; init; }
    public decimal? SubscriptionCreditLimit { get; init; }
    public decimal? FinancialBlockingThreshold { get; init; }
    public long? AccountTypeId { get; init; }
    public long? ManagerId { get; init; }
    public long? OwnerId { get; init; }
    public long? TechUserId { get; init; }
    public long? BillUserId { get; init; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; init; }
    public AccountManager? Manager { get; init; }
    public AccountOwner? Owner { get; init; }
    public IReadOnlyList<AccountProductManager>? AccountProductManagers { get; init; }
    public bool? SelfRegistration { get; init; }
    public string? DefaultPaymentModel { get; init; }
    public AccountType? AccountType { get; init; }
    public AccountClass? AccountClass { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountManager
{
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public long? ResellerId { get; init; }
    public long? Id { get; init; }
    public string? Name { get; init; }
    public string? Status { get; init; }
    public string? Email { get; init; }
    public string? Role { get; init; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountOwner
{
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public string? Email { get; init; }
    public string? AccountStatus { get; init; }
    public string? GlobalStatus { get; init; }
    public string? FirstName { get; init; }
    public string? MiddleName { get; init; }
    public string? LastName { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountProductManager
{
    public long? Id { get; init; }
    public long? AccountId { get; init; }
    public long? ProductId { get; init; }
    public long? ResponsibleProductManagerId { get; init; }
    public long? ManagerProductRoleId { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountType
{
    public long? Id { get; init; }
    public string? Name { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public long? ResellerId { get; init; }
    public string? NamePattern { get; init; }
    public string? PrimaryName { get; init; }
    public string? Key { get; init; }
    public long? DefaultPaymentMethodId { get; init; }

    /// <summary>The parent account type's id path, e.g. <c>"1600"</c>.</summary>
    public string? Ancestry { get; init; }

    public bool? UseByDefault { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountClass
{
    public long? Id { get; init; }
    public long? ResellerId { get; init; }
    public string? Name { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public decimal? FinancialBlockingThreshold { get; init; }
    public int? DueOrderPeriod { get; init; }
    public int? SubzeroPeriod { get; init; }
    public string? StopSubscriptionType { get; init; }
    public string? Key { get; init; }
    public string? Color { get; init; }
    public decimal? GuaranteedPaymentLimit { get; init; }
    public int? GuaranteedPaymentPeriod { get; init; }
    public string? DeleteSubscriptionType { get; init; }
    public bool? Denominated { get; init; }
    public bool? BuyWithNegativeBalance { get; init; }
    public int? ReceiptDay { get; init; }
    public string? PaymentModel { get; init; }
    public bool? Default { get; init; }
    public int? DuePaymentPeriod { get; init; }
    public decimal? SubscriptionCreditLimit { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
