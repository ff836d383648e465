using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Bridge.Tests.Pipeline;

// The pipeline tests in five collections, each with a fixture of its own (its own sandbox, database and Bridge), run side by
// side: one collection's tests run one after another, and most of their time is spent waiting for windows to pass, not
// computing. The classes are spread by their measured durations (a full run's console log) so the five end near each other.

/// <summary>Pipeline tests, first of five collections (see the comment above).</summary>
[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<PipelineFixture>
{
    public const string Name = "Pipeline 1 on RabbitMQ, PostgreSQL and the sandbox";
}

/// <summary>Pipeline tests, second of five collections.</summary>
[CollectionDefinition(Name)]
public sealed class PipelineCollection2 : ICollectionFixture<PipelineFixture>
{
    public const string Name = "Pipeline 2 on RabbitMQ, PostgreSQL and the sandbox";
}

/// <summary>Pipeline tests, third of five collections.</summary>
[CollectionDefinition(Name)]
public sealed class PipelineCollection3 : ICollectionFixture<PipelineFixture>
{
    public const string Name = "Pipeline 3 on RabbitMQ, PostgreSQL and the sandbox";
}

/// <summary>Pipeline tests, fourth of five collections.</summary>
[CollectionDefinition(Name)]
public sealed class PipelineCollection4 : ICollectionFixture<PipelineFixture>
{
    public const string Name = "Pipeline 4 on RabbitMQ, PostgreSQL and the sandbox";
}

/// <summary>Pipeline tests, fifth of five collections.</summary>
[CollectionDefinition(Name)]
public sealed class PipelineCollection5 : ICollectionFixture<PipelineFixture>
{
    public const string Name = "Pipeline 5 on RabbitMQ, PostgreSQL and the sandbox";
}

/// <summary>
/// The real parts, shared by the pipeline tests: a private RabbitMQ (from ./test.sh), a fresh PostgreSQL database, the
/// ActivePlatform sandbox over HTTP, and one running Bridge. Tests isolate themselves by using their own document keys.
/// </summary>
public sealed class PipelineFixture : IAsyncLifetime
{
    public const long AccountId = 505;

    private readonly string _databaseName = $"bridge_pipeline_{Guid.NewGuid():N}";

    public RunningSandbox Sandbox { get; private set; } = null!;

    public BridgeInstance Bridge { get; private set; } = null!;

    public ErpPublisher Erp { get; private set; } = null!;

    public ResultEventListener Events { get; private set; } = null!;

    public string DatabaseConnectionString { get; private set; } = null!;

    public string QueuePrefix { get; } = $"bridge-test-{Guid.NewGuid():N}"[..24];

    public string Queue(string name) => $"{QueuePrefix}.{name}";

    public async Task InitializeAsync()
    {
        DatabaseConnectionString = await TestEnvironment.CreatePostgresDatabaseAsync(_databaseName);
        // Documents whose key starts with async- or restart- are answered with async tasks, completed on the third poll.
        Sandbox = await SandboxServer.StartAsync(
            new SandboxSettings { Async = new AsyncModeSettings { Mode = AsyncWriteMode.KeyPattern, KeyPattern = "^(async|restart)-", PollsToComplete = 3 } }.WithTestAccounts(),
            CancellationToken.None);
        Events = await ResultEventListener.StartAsync(TestEnvironment.RabbitMqUri);
        Bridge = await StartBridgeAsync(QueuePrefix);
        Erp = await ErpPublisher.ConnectAsync(TestEnvironment.RabbitMqUri);
    }

    /// <summary>Settings of a Bridge on the real broker, database and sandbox; <paramref name="overrides"/> win.</summary>
    public Dictionary<string, string?> Settings(string queuePrefix, IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Bridge:Messaging:Transport"] = "RabbitMq",
            ["Bridge:Messaging:RabbitMqUri"] = TestEnvironment.RabbitMqUri.ToString(),
            ["Bridge:Messaging:QueuePrefix"] = queuePrefix,
            ["Bridge:Messaging:RetryLimit"] = "6",
            ["Bridge:Messaging:RetryMinInterval"] = "00:00:00.050",
            ["Bridge:Messaging:RetryMaxInterval"] = "00:00:01",
            ["Bridge:Storage:Provider"] = "PostgreSql",
            ["Bridge:Storage:ConnectionString"] = DatabaseConnectionString,
            ["Bridge:Outbox:PollInterval"] = "00:00:01",
            ["ActivePlatform:BaseUrl"] = Sandbox.BaseAddress.ToString(),
            ["ActivePlatform:ApiToken"] = SandboxSettings.DefaultToken,
            ["ActivePlatform:ResellerId"] = "1",
            ["ActivePlatform:RetryBaseDelay"] = "00:00:00.050",

            // One Bridge serves many tests in turn: the failures one test provokes (lost answers, 5xx) must not open the
            // circuit breaker for the next one (it did: InvoicePipelineTests failed in this order). Tests of the breaker set theirs.
            ["ActivePlatform:CircuitBreakerMinimumThroughput"] = "100000",
            ["ActivePlatform:AsyncTaskPolling:InitialDelay"] = "00:00:00.050",
            ["ActivePlatform:AsyncTaskPolling:MaxDelay"] = "00:00:00.200",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public Task<BridgeInstance> StartBridgeAsync(string queuePrefix, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
        => BridgeInstance.StartAsync(Settings(queuePrefix, overrides), services);

    public async Task DisposeAsync()
    {
        await Erp.DisposeAsync();
        await Bridge.DisposeAsync();
        await Events.DisposeAsync();
        await Sandbox.DisposeAsync();
        await TestEnvironment.DropPostgresDatabaseAsync(_databaseName);
    }
}
