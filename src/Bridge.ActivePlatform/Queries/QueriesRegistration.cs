using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Refit;

namespace Bridge.ActivePlatform.Queries;

/// <summary>Registers the reads over the one named ActivePlatform <see cref="HttpClient"/>: same rate limit, resilience pipeline and token handler as the writes.</summary>
internal static class QueriesRegistration
{
    public static void AddQueries(IServiceCollection services, string httpClientName)
    {
        services.AddRefitGeneratedClient<IQueriesApi>(QueriesJsonContext.Default, _ => Settings(), httpClientName);
        services.TryAddTransient<IActivePlatformQueries, ActivePlatformQueries>();
    }

    private static RefitSettings Settings()
    {
        var settings = ActivePlatformRefit.Settings(QueriesJsonContext.Default);
        settings.ContentSerializer = new SystemTextJsonContentSerializer(QueryJson.Options);
        return settings;
    }
}
