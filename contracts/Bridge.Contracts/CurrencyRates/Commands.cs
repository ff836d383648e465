namespace Bridge.Contracts;

/// <summary>
/// Set a reseller's currency rates in ActivePlatform from one batch of the ERP's rates, all effective at
/// <see cref="EffectiveAt"/>. For each (reseller, base, foreign) pair, a rate that took effect earlier than the one already
/// applied is never applied after it: stale pairs are skipped and named in the result event.
/// </summary>
public sealed record UpdateCurrencyRates
{
    /// <summary>Explicit idempotency key, for publishers that cannot set the AMQP <c>message_id</c>.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>ActivePlatform reseller whose rates these are; the configured default reseller when absent.</summary>
    public long? ResellerId { get; init; }

    /// <summary>The ERP's id of this rate batch; result events carry it as their key.</summary>
    public required string Key { get; init; }

    /// <summary>When the ERP's rates took effect; orders batches per currency pair.</summary>
    public required DateTimeOffset EffectiveAt { get; init; }

    /// <summary>At least one pair; a pair may appear once per batch.</summary>
    public required IReadOnlyList<CurrencyRate> Rates { get; init; }
}

/// <summary>One rate: <see cref="Quantity"/> units of <see cref="ForeignCurrency"/> cost <see cref="Rate"/> units of <see cref="BaseCurrency"/>.</summary>
public sealed record CurrencyRate
{
    /// <summary>ISO 4217 code of the currency the rate is expressed in ("in relation to which"), e.g. the reseller currency.</summary>
    public required string BaseCurrency { get; init; }

    /// <summary>ISO 4217 code of the currency being rated, e.g. a plan's currency.</summary>
    public required string ForeignCurrency { get; init; }

    /// <summary>How many units of the foreign currency the rate is for (at least 1).</summary>
    public required int Quantity { get; init; }

    /// <summary>The rate, greater than zero.</summary>
    public required decimal Rate { get; init; }

    /// <summary>Customer coefficient, 0.0001..1000; ActivePlatform's default (1) or the current value when absent.</summary>
    public decimal? Adjustment { get; init; }

    /// <summary>Whether customers see the rate; ActivePlatform's current value when absent.</summary>
    public bool? ShowForClient { get; init; }
}
