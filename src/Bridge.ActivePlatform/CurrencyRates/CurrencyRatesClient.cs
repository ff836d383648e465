using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform.CurrencyRates;

/// <summary>Currency-rate operations. Every failure is an <see cref="ActivePlatformException"/>.</summary>
public interface ICurrencyRatesClient
{
    /// <summary>The reseller currency with the rate of each foreign currency, as the reseller sees them (inherited ones included).</summary>
    Task<ResellerCurrencyRates> GetCurrencyRatesAsync(long resellerId, CancellationToken cancellationToken);

    /// <summary>
    /// Sets several pairs in one PATCH; a pair named twice is applied in order. Returns the rate records ActivePlatform
    /// created (empty when it answered without any). Repeating the same PATCH sets the same values again.
    /// </summary>
    Task<IReadOnlyList<CurrencyRateRecord>> UpdateCurrencyRatesAsync(long resellerId, IReadOnlyList<CurrencyRateWrite> rates, CancellationToken cancellationToken);
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

    public async Task<IReadOnlyList<CurrencyRateRecord>> UpdateCurrencyRatesAsync(long resellerId, IReadOnlyList<CurrencyRateWrite> rates, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rates);
        ArgumentOutOfRangeException.ThrowIfZero(rates.Count);
        var body = new Models.DataAttributesEnvelope<IReadOnlyList<CurrencyRateWrite>> { Data = new() { Attributes = rates } };
        using var response = await _guard.CallAsync(ct => api.UpdateAsync(resellerId, body, ct), cancellationToken).ConfigureAwait(false);
        _guard.EnsureSuccess(response);
        return response.Content?.Items ?? [];
    }
}
