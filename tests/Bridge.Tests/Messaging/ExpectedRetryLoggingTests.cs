using System.Collections.Concurrent;
using Bridge.ActivePlatform;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Bridge.Tests.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bridge.Tests.Messaging;

/// <summary>
/// MassTransit's retry warning (<c>R-RETRY</c>, with the exception's stack trace) is written at Debug for the waits Bridge
/// logs itself — a busy document, an effect whose outcome is pending — and as MassTransit writes it for everything else
/// (issue 8: warn-level lines with full stack traces for expected "document busy" retries on the hot path).
/// </summary>
public sealed class ExpectedRetryLoggingTests
{
    private const string Retry = "R-RETRY rabbitmq://localhost/bridge.send-closing-document";

    [Fact]
    public void Only_the_expected_waits_leave_MassTransits_retry_warnings_and_they_lose_their_stack_trace()
    {
        var capture = new CapturingProvider();
        using var factory = new ExpectedRetryLoggerFactory(LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(capture)));
        var transport = factory.CreateLogger(ExpectedRetryLoggerFactory.ReceiveTransportCategory);

        transport.LogWarning(new DocumentBusyException("closing-document:1:505", "doc-1"), Retry + " busy");
        transport.LogWarning(new EffectPendingException("a create's answer was lost"), Retry + " pending");
        transport.LogWarning(new AggregateException(new DocumentBusyException("closing-document:1:505", "doc-2")), Retry + " wrapped busy");
        transport.LogWarning(new ActivePlatformTransientException("503: unavailable"), Retry + " transient");
        transport.LogError(new DocumentBusyException("closing-document:1:505", "doc-3"), "R-FAULT busy past every retry");
        factory.CreateLogger("Bridge.Host.Messaging.Retries").LogWarning(new DocumentBusyException("closing-document:1:505", "doc-4"), "another category");

        var entries = capture.Entries.ToList();
        Assert.Equal(
            [
                (LogLevel.Debug, Retry + " busy", false),
                (LogLevel.Debug, Retry + " pending", false),
                (LogLevel.Debug, Retry + " wrapped busy", false),
                (LogLevel.Warning, Retry + " transient", true),
                (LogLevel.Error, "R-FAULT busy past every retry", true),
                (LogLevel.Warning, "another category", true),
            ],
            entries.Select(e => (e.Level, e.Message, e.Exception is not null)));
    }

    [Fact]
    public void At_the_shipped_level_the_expected_waits_write_nothing()
    {
        var capture = new CapturingProvider();
        using var factory = new ExpectedRetryLoggerFactory(LoggerFactory.Create(logging => logging.AddFilter("MassTransit", LogLevel.Warning).AddProvider(capture)));
        var transport = factory.CreateLogger(ExpectedRetryLoggerFactory.ReceiveTransportCategory);

        transport.LogWarning(new DocumentBusyException("closing-document:1:505", "doc-1"), Retry + " busy");
        transport.LogWarning(new InvalidOperationException("unexpected"), Retry + " unexpected");

        Assert.Equal([(LogLevel.Warning, Retry + " unexpected")], capture.Entries.Select(e => (e.Level, e.Message)));
    }

    [Fact]
    public async Task Bridges_host_writes_through_it_to_every_provider()
    {
        using var scratch = ScratchDirectory.Create("bridge-retry-logging-");
        var directory = scratch.Path;
        var capture = new CapturingProvider();
        await using var bridge = await BridgeInstance.StartAsync(
            new Dictionary<string, string?>
            {
                ["Bridge:Messaging:Transport"] = "InMemory",
                ["Bridge:Storage:Provider"] = "Sqlite",
                ["Bridge:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "bridge.db")}",
                ["ActivePlatform:BaseUrl"] = "http://127.0.0.1:9/",
                ["ActivePlatform:ApiToken"] = "retry-logging-token",
                ["ActivePlatform:ResellerId"] = "1",
            },
            services => services.AddSingleton<ILoggerProvider>(capture));

        var factory = bridge.Get<ILoggerFactory>();
        Assert.IsType<ExpectedRetryLoggerFactory>(factory);
        var transport = factory.CreateLogger(ExpectedRetryLoggerFactory.ReceiveTransportCategory);
        transport.LogWarning(new DocumentBusyException("closing-document:1:505", "doc-1"), Retry + " busy");
        transport.LogWarning(new ActivePlatformTransientException("503: unavailable"), Retry + " transient");

        var retries = capture.Entries.Where(e => e.Category == ExpectedRetryLoggerFactory.ReceiveTransportCategory && e.Message.StartsWith("R-RETRY", StringComparison.Ordinal)).ToList();
        Assert.Equal([(LogLevel.Warning, Retry + " transient")], retries.Select(e => (e.Level, e.Message)));
    }

    private sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
        }
    }
}
