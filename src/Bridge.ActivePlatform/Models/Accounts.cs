using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.ActivePlatform.Models;

/// <summary>An account (<c>accounts</c>), as <c>GET child_reseller_accounts/{id}</c> and <c>include=account</c> return it.</summary>
public sealed record Account : JsonApiResource
{
    public AccountAttributes Attributes { get; set; } = new();
}

public sealed record AccountAttributes
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public long? ResellerId { get; set; }
    public string? Name { get; set; }
    public long? AccountClassId { get; set; }
    public string? PrimaryName { get; set; }
    public string? FirstName { get; set; }
    public string? MiddleName { get; set; }
    public string? LastName { get; set; }
    public string? Country { get; set; }
    public string? Region { get; set; }
    public string? City { get; set; }
    public string? Street { get; set; }
    public string? Building { get; set; }
    public string? Office { get; set; }
    public string? Zip { get; set; }
    public string? Phone { get; set; }
    public string? Email { get; set; }
    public string? Status { get; set; }
    public ApiDecimal? Balance { get; set; }
    public ApiDecimal? UsableBalance { get; set; }
    public ApiDecimal? CurrentDebt { get; set; }
    public ApiDecimal? SubscriptionCreditLimit { get; set; }
    public ApiDecimal? FinancialBlockingThreshold { get; set; }
    public long? AccountTypeId { get; set; }
    public long? ManagerId { get; set; }
    public long? OwnerId { get; set; }
    public long? TechUserId { get; set; }
    public long? BillUserId { get; set; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; set; }
    public AccountManager? Manager { get; set; }
    public AccountOwner? Owner { get; set; }
    public IReadOnlyList<AccountProductManager>? AccountProductManagers { get; set; }
    public bool? SelfRegistration { get; set; }
    public string? DefaultPaymentModel { get; set; }
    public AccountType? AccountType { get; set; }
    public AccountClass? AccountClass { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountManager
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public long? ResellerId { get; set; }
    public long? Id { get; set; }
    public string? Name { get; set; }
    public string? Status { get; set; }
    public string? Email { get; set; }
    public string? Role { get; set; }
    public IReadOnlyDictionary<string, string?>? CustomAttributes { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountOwner
{
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public string? Email { get; set; }
    public string? AccountStatus { get; set; }
    public string? GlobalStatus { get; set; }
    public string? FirstName { get; set; }
    public string? MiddleName { get; set; }
    public string? LastName { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountProductManager
{
    public long? Id { get; set; }
    public long? AccountId { get; set; }
    public long? ProductId { get; set; }
    public long? ResponsibleProductManagerId { get; set; }
    public long? ManagerProductRoleId { get; set; }
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountType
{
    public long? Id { get; set; }
    public string? Name { get; set; }
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public long? ResellerId { get; set; }
    public string? NamePattern { get; set; }
    public string? PrimaryName { get; set; }
    public string? Key { get; set; }
    public long? DefaultPaymentMethodId { get; set; }

    /// <summary>The parent account type's id path, e.g. <c>"1600"</c>.</summary>
    public string? Ancestry { get; set; }

    public bool? UseByDefault { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AccountClass
{
    public long? Id { get; set; }
    public long? ResellerId { get; set; }
    public string? Name { get; set; }
    public ApiTimestamp? CreatedAt { get; set; }
    public ApiTimestamp? UpdatedAt { get; set; }
    public ApiDecimal? FinancialBlockingThreshold { get; set; }
    public int? DueOrderPeriod { get; set; }
    public int? SubzeroPeriod { get; set; }
    public string? StopSubscriptionType { get; set; }
    public string? Key { get; set; }
    public string? Color { get; set; }
    public ApiDecimal? GuaranteedPaymentLimit { get; set; }
    public int? GuaranteedPaymentPeriod { get; set; }
    public string? DeleteSubscriptionType { get; set; }
    public bool? Denominated { get; set; }
    public bool? BuyWithNegativeBalance { get; set; }
    public int? ReceiptDay { get; set; }
    public string? PaymentModel { get; set; }
    public bool? Default { get; set; }
    public int? DuePaymentPeriod { get; set; }
    public ApiDecimal? SubscriptionCreditLimit { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
