namespace Bridge.Contracts;

/// <summary>A currency pair, as <c>BASE/FOREIGN</c>.</summary>
public sealed record CurrencyPair(string BaseCurrency, string ForeignCurrency);

/// <summary>A pair of the batch that was not applied because a rate that took effect later is already applied.</summary>
public sealed record SkippedCurrencyPair(string BaseCurrency, string ForeignCurrency, DateTimeOffset AppliedEffectiveAt);

/// <summary>
/// The batch's newer pairs are in ActivePlatform (sent in one PATCH). Pairs already applied at the same effective time
/// are listed in <see cref="Unchanged"/> and not sent again; stale pairs are listed in <see cref="Skipped"/>.
/// </summary>
public sealed record CurrencyRatesUpdated : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }
    public required DateTimeOffset EffectiveAt { get; init; }

    /// <summary>The pairs this message sent to ActivePlatform; empty when <see cref="AlreadyApplied"/>.</summary>
    public required IReadOnlyList<CurrencyRate> Applied { get; init; }

    /// <summary>Pairs an earlier message already applied at this same effective time; not sent again.</summary>
    public IReadOnlyList<CurrencyPair> Unchanged { get; init; } = [];

    /// <summary>Pairs not applied because a rate that took effect later is already applied.</summary>
    public IReadOnlyList<SkippedCurrencyPair> Skipped { get; init; } = [];

    /// <summary>True when every pair was already applied at this effective time (a republished batch): nothing was sent.</summary>
    public required bool AlreadyApplied { get; init; }
}

/// <summary>No pair of the batch was applied: for each, a rate that took effect later is already applied.</summary>
public sealed record CurrencyRatesSkipped : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    public required long ResellerId { get; init; }
    public required DateTimeOffset EffectiveAt { get; init; }

    /// <summary>Every stale pair, with the effective time of the rate applied instead.</summary>
    public required IReadOnlyList<SkippedCurrencyPair> Skipped { get; init; }

    /// <summary>Pairs already applied at this same effective time by an earlier message.</summary>
    public IReadOnlyList<CurrencyPair> Unchanged { get; init; } = [];
}

/// <summary>The rate batch was not applied and will not be retried.</summary>
public sealed record CurrencyRatesRejected : IResultEvent
{
    public required string Key { get; init; }
    public required string MessageId { get; init; }
    public required string CorrelationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The rejected message's type: <c>UpdateCurrencyRates</c>.</summary>
    public required string MessageType { get; init; }

    public required RejectionReason Reason { get; init; }

    /// <summary>A human-readable explanation, never containing secrets.</summary>
    public required string Description { get; init; }

    /// <summary>Field-level validation errors, for <see cref="RejectionReason.InvalidMessage"/>.</summary>
    public IReadOnlyList<string> ValidationErrors { get; init; } = [];

    /// <summary>ActivePlatform's error, for <see cref="RejectionReason.RejectedByActivePlatform"/>.</summary>
    public ActivePlatformError? ActivePlatformError { get; init; }
}
