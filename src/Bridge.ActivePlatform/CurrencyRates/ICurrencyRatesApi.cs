using Bridge.ActivePlatform.Api;
using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.CurrencyRates;

/// <summary>Currency rates (REFERENCE.md §3). Non-2xx answers are classified by <see cref="CurrencyRatesClient"/>.</summary>
[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface ICurrencyRatesApi
{
    [Get("/api/v3/resellers/{resellerId}/currency_rates")]
    Task<IApiResponse<JsonApiDocument<ResellerCurrencyRates>>> GetAsync(long resellerId, CancellationToken cancellationToken);

    /// <summary><c>data.attributes</c> is an array; the answer's <c>data</c> is an array of rate records.</summary>
    [Patch("/api/v3/resellers/{resellerId}/currency_rates")]
    Task<IApiResponse<JsonApiDocument<CurrencyRateRecord>>> UpdateAsync(
        long resellerId, [Body] DataAttributesEnvelope<IReadOnlyList<CurrencyRateWrite>> body, CancellationToken cancellationToken);
}
