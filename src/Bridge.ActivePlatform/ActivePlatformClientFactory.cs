using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform;

/// <summary>
/// Builds a client outside a host — for tests against a sandbox on any URL, and for tools. The instance owns its
/// service provider (HTTP handlers, resilience pipeline); dispose it when done.
/// </summary>
public static class ActivePlatformClientFactory
{
    /// <exception cref="OptionsValidationException">The options are invalid; the message names the settings.</exception>
    public static StandaloneActivePlatformClient Create(
        ActivePlatformOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var services = new ServiceCollection();
        if (loggerFactory is not null)
        {
            services.AddSingleton(loggerFactory);
        }

        services.AddLogging();
        if (timeProvider is not null)
        {
            services.AddSingleton(timeProvider);
        }

        services.AddActivePlatformClient(o => Copy(options, o));
        var provider = services.BuildServiceProvider();
        try
        {
            // Without a host nothing runs ValidateOnStart: validate now, so a bad option fails here and not on first use.
            _ = provider.GetRequiredService<IOptions<ActivePlatformOptions>>().Value;
        }
        catch
        {
            provider.Dispose();
            throw;
        }

        return new StandaloneActivePlatformClient(provider);
    }

    internal static void Copy(ActivePlatformOptions from, ActivePlatformOptions to)
    {
        to.BaseUrl = from.BaseUrl;
        to.ApiToken = from.ApiToken;
        to.ResellerId = from.ResellerId;
        to.ClosingDocumentEnvelope = from.ClosingDocumentEnvelope;
        to.AttemptTimeout = from.AttemptTimeout;
        to.TotalTimeout = from.TotalTimeout;
        to.RetryCount = from.RetryCount;
        to.RetryBaseDelay = from.RetryBaseDelay;
        to.CircuitBreakerFailureRatio = from.CircuitBreakerFailureRatio;
        to.CircuitBreakerMinimumThroughput = from.CircuitBreakerMinimumThroughput;
        to.CircuitBreakerSamplingDuration = from.CircuitBreakerSamplingDuration;
        to.CircuitBreakerBreakDuration = from.CircuitBreakerBreakDuration;
        to.AsyncTaskPolling = from.AsyncTaskPolling;
        to.RateLimit = from.RateLimit;
    }
}

public sealed class StandaloneActivePlatformClient : IDisposable, IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    internal StandaloneActivePlatformClient(ServiceProvider provider)
    {
        _provider = provider;
        Client = provider.GetRequiredService<IActivePlatformClient>();
        Poller = provider.GetRequiredService<ActivePlatformAsyncTaskPoller>();
    }

    public IActivePlatformClient Client { get; }

    public ActivePlatformAsyncTaskPoller Poller { get; }

    public IServiceProvider Services => _provider;

    public void Dispose() => _provider.Dispose();

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}
