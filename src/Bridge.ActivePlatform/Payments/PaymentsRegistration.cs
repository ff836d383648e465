using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Refit;

namespace Bridge.ActivePlatform.Payments;

/// <summary>Registers the payments API over the one named ActivePlatform <see cref="HttpClient"/> (same resilience pipeline and token handler).</summary>
internal static class PaymentsRegistration
{
    public static void AddPayments(IServiceCollection services, string httpClientName)
    {
        services.AddRefitGeneratedClient<IPaymentsApi>(PaymentsJsonContext.Default, _ => Settings(), httpClientName);
        services.TryAddTransient<IPaymentsClient, PaymentsClient>();
    }

    private static RefitSettings Settings() => ActivePlatformRefit.Settings(PaymentsJsonContext.Default);
}
