using System.Net.Http.Headers;
using Bridge.Host;
using Bridge.Host.Admin;
using Bridge.Host.Hosting;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Bridge.Tests.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Bridge.Tests.DeadLetters;

[CollectionDefinition(Name)]
public sealed class DeadLetterCollection : ICollectionFixture<DeadLetterFixture>
{
    public const string Name = "Dead letters on RabbitMQ, PostgreSQL and the sandbox";
}

/// <summary>The web page's browser tests, with a fixture of their own: they take as long as the rest of the dead-letter tests together, which run beside them.</summary>
[CollectionDefinition(Name)]
public sealed class DeadLetterCollection2 : ICollectionFixture<DeadLetterFixture>
{
    public const string Name = "Dead letters 2 (the web page) on RabbitMQ, PostgreSQL and the sandbox";
}

/// <summary>
/// Real parts for the dead-letter tests, apart from the pipeline tests' so that faults injected here touch nothing else:
/// a private RabbitMQ (from ./test.sh), a fresh PostgreSQL database, the sandbox over HTTP, and one Bridge built as
/// Program.cs builds it (health, admin API and HTTP door on a loopback port) with two operator tokens, two ERP keys and
/// edit-and-replay on.
/// </summary>
public sealed class DeadLetterFixture : IAsyncLifetime
{
    public const string OperatorToken = "operator-token-0123456789";
    public const string ReadOnlyToken = "viewer-token-0123456789";
    public const string OperatorName = "alice";
    public const string ErpKey = "erp-key-1c-0123456789";
    public const string OtherErpKey = "erp-key-other-0123456789";

    /// <summary>A second key of <see cref="ErpClientName"/>, as while its key is being rotated.</summary>
    public const string RotatedErpKey = "erp-key-1c-rotated-0123456789";
    public const string ErpClientName = "1c-main";
    public const int RetryLimit = 2;

    /// <summary>How long a query on the queue may take: short, so that a test of an ActivePlatform that never answers well is short.</summary>
    public static readonly TimeSpan QueryAnswerWithin = TimeSpan.FromSeconds(5);

    private readonly string _databaseName = $"bridge_deadletters_{Guid.NewGuid():N}";

    public RunningSandbox Sandbox { get; private set; } = null!;

    public WebApplication Bridge { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public ErpPublisher Erp { get; private set; } = null!;

    public ResultEventListener Events { get; private set; } = null!;

    public string QueuePrefix { get; } = $"bridge-dl-{Guid.NewGuid():N}"[..20];

    public string Queue(string name) => $"{QueuePrefix}.{name}";

    public T Get<T>()
        where T : notnull => Bridge.Services.GetRequiredService<T>();

    /// <summary>A client of the HTTP door sending the ERP key <paramref name="key"/> (none when null).</summary>
    public HttpClient Door(string? key = ErpKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>A client of the admin API sending <paramref name="token"/> (none when null).</summary>
    public HttpClient Admin(string? token = OperatorToken)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>The Bridge's PostgreSQL database (a test moves a time back in it, as the database sees it).</summary>
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var connectionString = await TestEnvironment.CreatePostgresDatabaseAsync(_databaseName);
        ConnectionString = connectionString;
        Sandbox = await SandboxServer.StartAsync(new SandboxSettings().WithTestAccounts(), CancellationToken.None);
        Events = await ResultEventListener.StartAsync(TestEnvironment.RabbitMqUri);
        Erp = await ErpPublisher.ConnectAsync(TestEnvironment.RabbitMqUri);
        Bridge = await StartBridgeAsync(new Dictionary<string, string?>
        {
            ["Bridge:Messaging:Transport"] = "RabbitMq",
            ["Bridge:Messaging:RabbitMqUri"] = TestEnvironment.RabbitMqUri.ToString(),
            ["Bridge:Messaging:QueuePrefix"] = QueuePrefix,
            ["Bridge:Messaging:RetryLimit"] = RetryLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Bridge:Messaging:RetryMinInterval"] = "00:00:00.050",
            ["Bridge:Messaging:RetryMaxInterval"] = "00:00:00.200",
            ["Bridge:Storage:Provider"] = "PostgreSql",
            ["Bridge:Storage:ConnectionString"] = connectionString,
            ["Bridge:Outbox:PollInterval"] = "00:00:01",
            ["Bridge:Queries:AnswerWithin"] = QueryAnswerWithin.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            ["Bridge:DeadLetters:AllowEditAndReplay"] = "true",
            ["Bridge:Admin:Tokens:0:Name"] = OperatorName,
            ["Bridge:Admin:Tokens:0:Token"] = OperatorToken,
            ["Bridge:Admin:Tokens:0:Role"] = "Operator",
            ["Bridge:Admin:Tokens:1:Name"] = "viewer",
            ["Bridge:Admin:Tokens:1:Token"] = ReadOnlyToken,
            ["Bridge:Admin:Tokens:1:Role"] = "read-only",
            ["Bridge:Ingress:Clients:0:Name"] = ErpClientName,
            ["Bridge:Ingress:Clients:0:Key"] = ErpKey,
            ["Bridge:Ingress:Clients:1:Name"] = "other-erp",
            ["Bridge:Ingress:Clients:1:Key"] = OtherErpKey,
            ["Bridge:Ingress:Clients:2:Name"] = ErpClientName,
            ["Bridge:Ingress:Clients:2:Key"] = RotatedErpKey,
            ["ActivePlatform:BaseUrl"] = Sandbox.BaseAddress.ToString(),
            ["ActivePlatform:ApiToken"] = SandboxSettings.DefaultToken,
            ["ActivePlatform:ResellerId"] = "1",
            ["ActivePlatform:RetryBaseDelay"] = "00:00:00.050",
            // A statement line whose answer was lost is settled only once it can no longer land (the in-flight window,
            // AttemptTimeout + TotalTimeout): short here, so such a test waits seconds, not the default two minutes.
            ["ActivePlatform:AttemptTimeout"] = "00:00:02",
            ["ActivePlatform:TotalTimeout"] = "00:00:04",
            // Every test here makes ActivePlatform fail on purpose; an open circuit would fail the next test's replay too.
            ["ActivePlatform:CircuitBreakerMinimumThroughput"] = "100000",
        });
        BaseAddress = new Uri(Bridge.Urls.Single());
    }

    /// <summary>The service as Program.cs builds it, listening on a free loopback port.</summary>
    public static async Task<WebApplication> StartBridgeAsync(IDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Bridge"] = "Information",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddBridge();
        var app = builder.Build();
        app.MapBridgeEndpoints();
        await app.StartAsync();

        var health = app.Services.GetRequiredService<HealthCheckService>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await health.CheckHealthAsync(check => check.Tags.Contains("ready"))).Status != HealthStatus.Healthy)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Bridge did not become ready.");
            }

            await Task.Delay(50);
        }

        return app;
    }

    public async Task DisposeAsync()
    {
        await Erp.DisposeAsync();
        await Bridge.StopAsync();
        await Bridge.DisposeAsync();
        await Events.DisposeAsync();
        await Sandbox.DisposeAsync();
        await TestEnvironment.DropPostgresDatabaseAsync(_databaseName);
    }
}
