using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform.CurrencyRates;

/// <summary>Currency-rate operations. Every failure is an <see cref="ActivePlatformException"/>.</summary>
public interface ICurrencyRatesClient
{
    /// <summary>The reseller currency with the rate of each foreign currency, as the reseller sees them (inherited ones included).</summary>
    Task<ResellerCurrencyRates> GetCurrencyRatesAsync(long resellerId, CancellationToken cancellationToken);

    /// <summary>
    /// Sets several pairs in one PATCH; a pair named twice is applied in order. Returns the rate records ActivePlatform
    /// created (empty when it answered without any), and whether an earlier attempt of the PATCH (the HTTP layer repeats
    /// one) ended without proof that it had no effect. Repeating the same PATCH sets the same values again.
    /// </summary>
    Task<CurrencyRatesWritten> UpdateCurrencyRatesAsync(long resellerId, IReadOnlyList<CurrencyRateWrite> rates, CancellationToken cancellationToken);
}

public sealed class CurrencyRatesClient(ICurrencyRatesApi api, IOptions<ActivePlatformOptions> options, TimeProvider timeProvider) : ICurrencyRatesClient
{
    private readonly ActivePlatformCallGuard _guard = new(options.Value.ApiToken, timeProvider);

    public async Task<ResellerCurrencyRates> GetCurrencyRatesAsync(long resellerId, CancellationToken cancellationToken)
    {
        using var response = await _guard.CallAsync(ct => api.GetAsync(resellerId, ct), cancellationToken).ConfigureAwait(false);
        _guard.EnsureSuccess(response);
        return response.Content?.Items.FirstOrDefault()
            ?? throw _guard.Unreadable(response, "no currency rates in the answer");
    }

    public async Task<CurrencyRatesWritten> UpdateCurrencyRatesAsync(long resellerId, IReadOnlyList<CurrencyRateWrite> rates, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rates);
        ArgumentOutOfRangeException.ThrowIfZero(rates.Count);
        var body = new Models.DataAttributesEnvelope<IReadOnlyList<CurrencyRateWrite>> { Data = new() { Attributes = rates } };
        using var response = await _guard.CallAsync(ct => api.UpdateAsync(resellerId, body, ct), cancellationToken).ConfigureAwait(false);
        _guard.EnsureSuccess(response);
        return new CurrencyRatesWritten(response.Content?.Items ?? [])
        {
            AnAttemptMayHaveApplied = AttemptOutcomes.AnAttemptMayHaveApplied(response.RequestMessage),
        };
    }
}

/// <summary>ActivePlatform's answer to a rate PATCH.</summary>
/// <param name="Records">The rate records it created, one per pair in the order sent (empty when it answered without any).</param>
public sealed record CurrencyRatesWritten(IReadOnlyList<CurrencyRateRecord> Records)
{
    /// <summary>
    /// An attempt before the one answered (the HTTP layer repeats a PATCH) ended without proof that it had no effect — a
    /// timeout, a lost answer: ActivePlatform may still carry it out after this answer, until the in-flight window ends.
    /// </summary>
    public bool AnAttemptMayHaveApplied { get; init; }
}
