using System.Collections.Concurrent;
using System.Text;
using Bridge.ActivePlatform;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bridge.Tests.ActivePlatform;

/// <summary>
/// The documented response examples, kept verbatim in <c>ActivePlatform/Fixtures/</c> and copied to the test output's
/// <c>fixtures/</c>: read only from there, so a fresh clone needs nothing outside the repository.
/// </summary>
internal static class Fixtures
{
    public static string Read(string name)
    {
        var copied = Path.Combine(AppContext.BaseDirectory, "fixtures", name);
        if (!File.Exists(copied))
        {
            throw new FileNotFoundException($"Fixture {name} is not in the test output ({copied}): it belongs in tests/Bridge.Tests/ActivePlatform/Fixtures/.", copied);
        }

        return File.ReadAllText(copied);
    }
}

/// <summary>A request as the scripted server received it.</summary>
internal sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A real Kestrel server on a free loopback port whose answers each test scripts. It stands in for ActivePlatform
/// only where a test needs a specific status, header or malformed body; the full API is the sandbox's job.
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private ScriptedServer(WebApplication app) => _app = app;

    public Func<HttpContext, RecordedRequest, Task> Handler { get; set; } = (ctx, _) =>
    {
        ctx.Response.StatusCode = 404;
        return Task.CompletedTask;
    };

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static async Task<ScriptedServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ScriptedServer(app);
        app.Run(async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(ctx.RequestAborted);
            var recorded = new RecordedRequest(
                ctx.Request.Method,
                ctx.Request.Path.Value ?? string.Empty,
                ctx.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
                ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body);
            server._requests.Enqueue(recorded);
            await server.Handler(ctx, recorded);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address);
        return server;
    }

    public static Task Json(HttpContext ctx, int status, string json)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/vnd.api+json";
        return ctx.Response.WriteAsync(json);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal static class TestClients
{
    public const string Token = "tok-SECRET-5e1f9a7c3b";

    public static ActivePlatformOptions Options(Uri baseUrl, Action<ActivePlatformOptions>? tweak = null)
    {
        var options = new ActivePlatformOptions
        {
            BaseUrl = baseUrl,
            ApiToken = Token,
            ResellerId = 1,
            RetryCount = 2,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            // The product's defaults: an attempt cut short by a busy machine is repeated, and a test counting calls sees
            // two (one measured run: a PATCH answered 422 counted twice at load 70). Tests of timeouts set their own.
            AttemptTimeout = TimeSpan.FromSeconds(30),
            TotalTimeout = TimeSpan.FromSeconds(90),
        };
        tweak?.Invoke(options);
        return options;
    }
}

/// <summary>Collects every log line at every level, to prove the token never reaches one.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner.Lines.Enqueue($"{category} scope {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            owner.Lines.Enqueue($"{category} {logLevel} {formatter(state, exception)} {structured} {exception}");
        }
    }
}

/// <summary>
/// A clock that jumps forward by exactly the requested delay whenever something waits on it, so the poller's
/// waits complete at once and the test can read the schedule it asked for.
/// </summary>
internal sealed class AutoAdvancingTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly object _gate = new();
    private DateTimeOffset _now = start;

    public List<TimeSpan> RequestedDelays { get; } = [];

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public void Advance(TimeSpan by)
    {
        lock (_gate)
        {
            _now += by;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        lock (_gate)
        {
            RequestedDelays.Add(dueTime);
            _now += dueTime;
        }

        // Task.Delay stores the timer after CreateTimer returns and its callback disposes it: fire asynchronously.
        ThreadPool.UnsafeQueueUserWorkItem(_ => callback(state), null);
        return new NoopTimer();
    }

    private sealed class NoopTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
