using Bridge.Host.Idempotency;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Messaging;

/// <summary>
/// MassTransit writes every in-process retry as a warning carrying the exception and its stack trace (<c>R-RETRY</c>, category
/// <c>MassTransit.ReceiveTransport</c>). Two of Bridge's retries are expected waits, not failures: a delivery waiting for a
/// document another delivery holds (<see cref="DocumentBusyException"/>) and one waiting for an effect's outcome to become
/// known (<see cref="EffectPendingException"/>). Bridge logs each of those itself (Information, "… will be retried (reason:
/// detail); retry N in …", <see cref="RetryTelemetry"/>) and counts it (<c>bridge.messages.retries</c>), so MassTransit's
/// warning for them is written at Debug, without the stack trace (issue 8: a chaos run wrote 240 such warnings of about
/// twenty lines each). Every other retry, fault and warning is written as MassTransit writes it.
/// </summary>
public sealed class ExpectedRetryLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    /// <summary>The category MassTransit writes <c>R-RETRY</c> under.</summary>
    public const string ReceiveTransportCategory = "MassTransit.ReceiveTransport";

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return string.Equals(categoryName, ReceiveTransportCategory, StringComparison.Ordinal) ? new ReceiveTransportLogger(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    /// <summary>True for the retries Bridge expects and logs itself.</summary>
    public static bool IsExpectedWait(Exception? exception)
        => exception is DocumentBusyException or EffectPendingException
           || exception?.GetBaseException() is DocumentBusyException or EffectPendingException;

    private sealed class ReceiveTransportLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning && IsExpectedWait(exception))
            {
                if (inner.IsEnabled(LogLevel.Debug))
                {
                    inner.Log(LogLevel.Debug, eventId, state, null, formatter);
                }

                return;
            }

            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}

public static class ExpectedRetryLogging
{
    /// <summary>Puts <see cref="ExpectedRetryLoggerFactory"/> around the host's logger factory (the one MassTransit takes).</summary>
    public static IServiceCollection AddExpectedRetryLogging(this IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(provider => new ExpectedRetryLoggerFactory(new LoggerFactory(
            provider.GetServices<ILoggerProvider>(),
            provider.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            provider.GetService<IOptions<LoggerFactoryOptions>>(),
            provider.GetService<IExternalScopeProvider>()))));
        return services;
    }
}
