using Bridge.ActivePlatform;
using Bridge.ActivePlatform.CurrencyRates;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Refit;

namespace Microsoft.Extensions.DependencyInjection;

public static class CurrencyRatesServiceCollectionExtensions
{
    /// <summary>
    /// The currency-rate API and <see cref="ICurrencyRatesClient"/>, over the shared ActivePlatform <see cref="HttpClient"/>
    /// (its token handler, resilience pipeline and circuit breaker). Called by <c>AddActivePlatformClient</c>.
    /// </summary>
    public static IServiceCollection AddActivePlatformCurrencyRates(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(ICurrencyRatesApi)))
        {
            return services;
        }

        services.AddRefitGeneratedClient<ICurrencyRatesApi>(CurrencyRatesJsonContext.Default, Settings, ActivePlatformServiceCollectionExtensions.HttpClientName);
        services.TryAddTransient<ICurrencyRatesClient, CurrencyRatesClient>();
        return services;
    }

    private static RefitSettings Settings(IServiceProvider services) => ActivePlatformRefit.Settings(CurrencyRatesJsonContext.Default);
}
