using Bridge.Host;
using Bridge.Host.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Bridge.Tests.Pipeline;

/// <summary>One running Bridge service, built exactly as Program.cs builds it, with test configuration on top.</summary>
public sealed class BridgeInstance : IAsyncDisposable
{
    private readonly IHost _host;

    private BridgeInstance(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    /// <param name="services">Replaces services after Bridge's own registrations (e.g. a store that fails on cue), for tests of failures.</param>
    public static async Task<BridgeInstance> StartAsync(IDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Bridge"] = "Information",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddBridge();
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        await WaitUntilReadyAsync(host.Services);
        return new BridgeInstance(host);
    }

    /// <summary>Waits for what <c>/health/ready</c> reports: the database reachable and every receive endpoint consuming.</summary>
    private static async Task WaitUntilReadyAsync(IServiceProvider services)
    {
        var health = services.GetRequiredService<HealthCheckService>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HealthReport report;
        while ((report = await health.CheckHealthAsync(check => check.Tags.Contains("ready"))).Status != HealthStatus.Healthy)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Bridge did not become ready: " + string.Join("; ", report.Entries.Select(e => $"{e.Key}={e.Value.Status} {e.Value.Description}")));
            }

            await Task.Delay(50);
        }
    }

    public T Get<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    public async Task StopAsync() => await _host.StopAsync(TimeSpan.FromSeconds(30));

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}
