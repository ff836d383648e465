using Bridge.Host.Hosting;
using Bridge.Tests.Pipeline;

namespace Bridge.Tests.Hosting;

public sealed class StartupValidationTests
{
    private static Dictionary<string, string?> Embedded(string directory) => new()
    {
        ["Bridge:Messaging:Transport"] = "InMemory",
        ["Bridge:Storage:Provider"] = "Sqlite",
        ["Bridge:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "bridge.db")}",
        ["ActivePlatform:BaseUrl"] = "http://127.0.0.1:9/",
        ["ActivePlatform:ApiToken"] = "startup-secret-token",
        ["ActivePlatform:ResellerId"] = "1",
    };

    [Theory]
    [InlineData("ActivePlatform:BaseUrl")]
    [InlineData("ActivePlatform:ApiToken")]
    public async Task A_missing_ActivePlatform_setting_stops_the_start_with_a_message_naming_it(string setting)
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings[setting] = "";

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.True(StartupFailure.TryDescribe(failure, out var problems), failure.ToString());
        Assert.Contains(problems, p => p.StartsWith(setting, StringComparison.Ordinal));
        Assert.DoesNotContain("startup-secret-token", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("10000")]
    public async Task A_purge_batch_size_out_of_range_stops_the_start(string batchSize)
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings["Bridge:Storage:PurgeBatchSize"] = batchSize;

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.True(StartupFailure.TryDescribe(failure, out var problems), failure.ToString());
        Assert.Contains(problems, p => p.Contains("Bridge:Storage:PurgeBatchSize", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Resolved_effects_kept_shorter_than_idempotency_records_stop_the_start()
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings["Bridge:Effects:RetainResolvedFor"] = "10.00:00:00";

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.True(StartupFailure.TryDescribe(failure, out var problems), failure.ToString());
        Assert.Contains(problems, p => p.Contains("Bridge:Effects:RetainResolvedFor", StringComparison.Ordinal) && p.Contains("Bridge:Idempotency:RetainRecordsFor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_claim_lease_too_short_to_renew_stops_the_start()
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings["Bridge:Idempotency:DocumentClaimLease"] = "00:00:01";

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.True(StartupFailure.TryDescribe(failure, out var problems), failure.ToString());
        Assert.Contains(problems, p => p.Contains("Bridge:Idempotency:DocumentClaimLease", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Bridge:Messaging:RetryLimit", "-1", "Bridge:Messaging:RetryLimit")]
    [InlineData("Bridge:Messaging:RetryLimit", "51", "Bridge:Messaging:RetryLimit")]
    [InlineData("Bridge:Messaging:RetryMinInterval", "-00:00:01", "Bridge:Messaging:RetryMinInterval")]
    [InlineData("Bridge:Messaging:RetryMinInterval", "00:00:20", "Bridge:Messaging:RetryMaxInterval")]
    [InlineData("Bridge:Messaging:RetryMaxInterval", "00:00:00", "Bridge:Messaging:RetryMaxInterval")]
    [InlineData("Bridge:Messaging:RetryMaxInterval", "30.00:00:00", "Bridge:Messaging:RetryMaxInterval")]
    [InlineData("Bridge:Messaging:RetryMaxInterval", "10000000.00:00:00", "Bridge:Messaging:RetryMaxInterval")]
    [InlineData("Bridge:Messaging:RetryMaxInterval", "00:10:00", "Bridge:Messaging:RetryLimit")]
    public async Task A_retry_setting_MassTransit_cannot_honour_stops_the_start_naming_it(string setting, string value, string named)
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings[setting] = value;

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.True(StartupFailure.TryDescribe(failure, out var problems), failure.ToString());
        Assert.Contains(problems, p => p.Contains(named, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Bridge:Messaging:DeliveryLimit", "0")]
    [InlineData("Bridge:Messaging:DeliveryLimit", "1001")]
    [InlineData("Bridge:Outage:ProbeInterval", "00:00:00")]
    [InlineData("Bridge:Outage:ProbeInterval", "01:00:00")]
    [InlineData("Bridge:Outage:ProbeTimeout", "00:00:00.010")]
    [InlineData("Bridge:Outage:ProbeTimeout", "00:05:00")]
    [InlineData("Bridge:Outage:HoldLimit", "00:00:00.500")]
    [InlineData("Bridge:Outage:HoldLimit", "00:30:00")]
    public async Task A_queue_or_outage_setting_out_of_range_stops_the_start_naming_it(string setting, string value)
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings[setting] = value;

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.True(StartupFailure.TryDescribe(failure, out var problems), failure.ToString());
        Assert.Contains(problems, p => p.Contains(setting, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("7")]
    [InlineData("1001")]
    public async Task A_prefetch_below_the_concurrency_limit_or_too_large_stops_the_start_naming_it(string prefetch)
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings["Bridge:Messaging:ConcurrentMessageLimit"] = "8";
        settings["Bridge:Messaging:PrefetchCount"] = prefetch;

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.True(StartupFailure.TryDescribe(failure, out var problems), failure.ToString());
        Assert.Contains(problems, p => p.Contains("Bridge:Messaging:PrefetchCount", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("8")]
    [InlineData("1000")]
    public async Task A_prefetch_from_the_concurrency_limit_to_1000_starts(string prefetch)
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings["Bridge:Messaging:ConcurrentMessageLimit"] = "8";
        settings["Bridge:Messaging:PrefetchCount"] = prefetch;

        await using var bridge = await BridgeInstance.StartAsync(settings);
    }

    [Theory]
    [InlineData("0", "00:00:00.200", "00:00:15")]
    [InlineData("0", "00:00:00", "00:00:00.001")]
    [InlineData("50", "00:00:00", "00:00:20")]
    [InlineData("5", "00:00:00", "00:00:00")]
    [InlineData("1", "00:15:00", "00:15:00")]
    public async Task Retry_settings_within_their_bounds_start(string limit, string min, string max)
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings["Bridge:Messaging:RetryLimit"] = limit;
        settings["Bridge:Messaging:RetryMinInterval"] = min;
        settings["Bridge:Messaging:RetryMaxInterval"] = max;

        await using var bridge = await BridgeInstance.StartAsync(settings);
    }

    [Theory]
    [InlineData("Bridge:Messaging:RetryLimit", "eight-ish")]
    [InlineData("Bridge:Messaging:RetryMinInterval", "a-moment")]
    [InlineData("Bridge:Messaging:RetryMaxInterval", "a-while")]
    [InlineData("Bridge:Messaging:RabbitMqUri", "amqp://bridge:hunter2-secret@[not-a-host")]
    [InlineData("Bridge:Messaging:QueueType", "lazy-ish")]
    [InlineData("Bridge:Outage:PauseConsumption", "sometimes")]
    public async Task A_setting_that_cannot_be_read_as_its_type_stops_the_start_naming_it_but_not_its_value(string setting, string value)
    {
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;
        var settings = Embedded(directory);
        settings[setting] = value;

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.True(StartupFailure.TryDescribe(failure, out var problems), failure.ToString());
        var problem = Assert.Single(problems);
        Assert.StartsWith(setting, problem, StringComparison.Ordinal);
        Assert.DoesNotContain(value, problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MassTransit_does_not_report_usage_telemetry_to_its_vendor_unless_the_operator_asks()
    {
        // A finance service calls no host it was not configured for: MassTransit 8.5 sends usage reports to
        // usage-tracking.masstransit.io by default. MASSTRANSIT_USAGE_TELEMETRY=true turns them back on.
        Assert.True(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MASSTRANSIT_USAGE_TELEMETRY")), "the test run sets MASSTRANSIT_USAGE_TELEMETRY");
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var directory = scratch.Path;

        await using var bridge = await BridgeInstance.StartAsync(Embedded(directory));

        Assert.False(bridge.Get<Microsoft.Extensions.Options.IOptions<MassTransit.UsageTelemetryOptions>>().Value.Enabled);
    }

    [Fact]
    public async Task A_sqlite_database_in_use_by_a_bridge_on_another_host_is_refused_at_start_and_one_of_this_host_is_not()
    {
        // SQLite's leases are judged by each process's own clock: a second host would break the claims that keep a message's
        // effect from being sent twice. Its registration, live in the file, stops this start with a message saying so.
        using var scratch = ScratchDirectory.Create("bridge-startup-");
        var settings = Embedded(scratch.Path);
        await (await BridgeInstance.StartAsync(settings)).DisposeAsync(); // creates and migrates the file
        var file = $"Data Source={Path.Combine(scratch.Path, "bridge.db")};Pooling=False";
        await RegisterAsync(file, "erp-host-2/4242/0badcafe");
        await RegisterAsync(file, $"{Environment.MachineName}/4243/0badf00d");

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BridgeInstance.StartAsync(settings));

        Assert.Contains("in use by a Bridge on another host (erp-host-2)", failure.ToString(), StringComparison.Ordinal);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(file))
        {
            await connection.OpenAsync();
            await using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM instances WHERE id LIKE 'erp-host-2/%';";
            await delete.ExecuteNonQueryAsync();
        }

        await using var sameHost = await BridgeInstance.StartAsync(settings);
        Assert.NotNull(sameHost.Get<InstanceRegistry>().Id);
    }

    private static async Task RegisterAsync(string connectionString, string id)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO instances (id, started_at, lease_expires_at)
            VALUES ($id, strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now'), strftime('%Y-%m-%dT%H:%M:%f0000Z', 'now', '+1 hour'));
            """;
        insert.Parameters.AddWithValue("$id", id);
        await insert.ExecuteNonQueryAsync();
    }
}
