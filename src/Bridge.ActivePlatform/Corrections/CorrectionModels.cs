using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Corrections;

/// <summary>A correction (<c>corrections</c>): a manual balance or debt adjustment that a manager approves or declines.</summary>
public sealed record Correction : JsonApiResource
{
    public CorrectionAttributes Attributes { get; init; } = new();
}

public sealed record CorrectionAttributes
{
    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public long? AccountId { get; init; }

    public long? ManagerId { get; init; }

    /// <summary><c>approval_required</c>, <c>approved</c> or <c>declined</c> (a string, so a new status does not break reading).</summary>
    public string? Status { get; init; }

    public decimal? Total { get; init; }

    public bool? IncludedInvoice { get; init; }

    public long? SubscriptionId { get; init; }

    public DateOnly? PeriodFrom { get; init; }

    public DateOnly? PeriodTo { get; init; }

    public string? Comment { get; init; }

    /// <summary>A date only, set once approved.</summary>
    public DateOnly? ApprovedAt { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>What the pipeline asks for: a new correction in <c>approval_required</c>.</summary>
public sealed record CorrectionCreate
{
    public required long AccountId { get; init; }

    public required bool IncludedInvoice { get; init; }

    public long? SubscriptionId { get; init; }

    public DateOnly? PeriodFrom { get; init; }

    public DateOnly? PeriodTo { get; init; }

    /// <summary>Signed; at most two decimals.</summary>
    public required decimal Total { get; init; }

    public string? Comment { get; init; }
}

public enum CorrectionStatus
{
    Approved,
    Declined,
}

/// <summary>The body fields of POST <c>corrections</c> as they go on the wire; the total is a string, as documented.</summary>
public sealed record CorrectionWriteAttributes
{
    public required long AccountId { get; init; }

    public required bool IncludedInvoice { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? SubscriptionId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateOnly? PeriodFrom { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateOnly? PeriodTo { get; init; }

    public required string Total { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Comment { get; init; }

    public static CorrectionWriteAttributes From(CorrectionCreate correction)
    {
        ArgumentNullException.ThrowIfNull(correction);
        return new CorrectionWriteAttributes
        {
            AccountId = correction.AccountId,
            IncludedInvoice = correction.IncludedInvoice,
            SubscriptionId = correction.SubscriptionId,
            PeriodFrom = correction.PeriodFrom,
            PeriodTo = correction.PeriodTo,
            Total = MoneyWrite.Format(correction.Total),
            Comment = correction.Comment,
        };
    }
}

/// <summary>The body of PATCH <c>corrections/{id}</c>: <c>approved</c> or <c>declined</c>.</summary>
public sealed record CorrectionStatusAttributes
{
    public required string Status { get; init; }
}
