using Bridge.Host;
using Bridge.Host.DeadLetters;
using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Retention;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Hosting;
using Bridge.Host.Storage;
using Bridge.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bridge.Tests.DeadLetters;

/// <summary>Settings Bridge refuses to start with, and retention as the service applies it (on a real SQLite file).</summary>
public sealed class DeadLetterStartupTests
{
    [Fact]
    public async Task Bridge_refuses_to_start_when_idempotency_records_would_be_purged_before_dead_letters()
    {
        using var host = BuildHost(new()
        {
            ["Bridge:Idempotency:RetainRecordsFor"] = "7.00:00:00",
            ["Bridge:DeadLetters:RetainFor"] = "14.00:00:00",
        });

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Bridge:Idempotency:RetainRecordsFor", failure.Message);
        Assert.Contains("Bridge:DeadLetters:RetainFor", failure.Message);
    }

    [Fact]
    public async Task The_default_dead_letter_retention_is_fourteen_days_and_fits_the_default_idempotency_retention()
    {
        using var host = BuildHost([]);

        await host.StartAsync();

        Assert.Equal(TimeSpan.FromDays(14), host.Services.GetRequiredService<IOptions<DeadLetterOptions>>().Value.RetainFor);
        Assert.False(host.Services.GetRequiredService<IOptions<DeadLetterOptions>>().Value.AllowEditAndReplay);
        await host.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(ScratchDirectory))
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_malformed_operator_token_stops_the_start_naming_the_entry_but_not_the_token()
    {
        using var host = BuildHost(new()
        {
            ["Bridge:Admin:Tokens:0:Name"] = "alice",
            ["Bridge:Admin:Tokens:0:Token"] = "short-secret",
            ["Bridge:Admin:Tokens:0:Role"] = "Operator",
            ["Bridge:Admin:Tokens:1:Name"] = "bob",
            ["Bridge:Admin:Tokens:1:Token"] = "a-long-enough-secret-token",
            ["Bridge:Admin:Tokens:1:Role"] = "superuser",
        });

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Bridge:Admin:Tokens:0:Token", failure.Message);
        Assert.Contains("Bridge:Admin:Tokens:1:Role", failure.Message);
        Assert.DoesNotContain("short-secret", failure.ToString());
        Assert.DoesNotContain("a-long-enough-secret-token", failure.ToString());
    }

    [Fact]
    public async Task Retention_purges_only_dead_letters_and_finished_replay_jobs_older_than_the_retention_period()
    {
        var directory = Directory.CreateTempSubdirectory("bridge-dead-letters-").FullName;
        try
        {
            var clock = new TestClock(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
            await using var database = new BridgeDatabase(new StorageOptions { Provider = SqlDialect.Sqlite, ConnectionString = $"Data Source={Path.Combine(directory, "bridge.db")}" }, clock);
            await database.MigrateAsync(CancellationToken.None);
            var store = new SqlDeadLetterStore(database, clock);
            using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var jobs = new SqlReplayJobStore(database);
            var maintenance = new DeadLetterMaintenance(
                store, jobs, new DeadLetterKeyBackfill(store, NullLogger<DeadLetterKeyBackfill>.Instance), new DeadLetterMetrics(meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
                Options.Create(new DeadLetterOptions()), clock, NullLogger<DeadLetterMaintenance>.Instance);

            var old = await CaptureAsync(database, store, clock.GetUtcNow());
            var oldJob = await FinishedJobAsync(jobs, clock.GetUtcNow());
            var running = await FinishedJobAsync(jobs, null);
            clock.Advance(TimeSpan.FromDays(13));
            var younger = await CaptureAsync(database, store, clock.GetUtcNow());
            var youngerJob = await FinishedJobAsync(jobs, clock.GetUtcNow());
            clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));

            Assert.Equal(1, await maintenance.PurgeAsync(CancellationToken.None));
            Assert.Null(await store.GetAsync(old, CancellationToken.None));
            Assert.NotNull(await store.GetAsync(younger, CancellationToken.None));
            Assert.Null(await jobs.GetAsync(oldJob, CancellationToken.None));
            Assert.NotNull(await jobs.GetAsync(youngerJob, CancellationToken.None));
            Assert.NotNull(await jobs.GetAsync(running, CancellationToken.None));
            Assert.Equal(0, await maintenance.PurgeAsync(CancellationToken.None));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A replay job started at <paramref name="finishedAt"/> and finished then; still Running when null.</summary>
    private static async Task<Guid> FinishedJobAsync(SqlReplayJobStore jobs, DateTimeOffset? finishedAt)
    {
        var id = Guid.NewGuid();
        var at = finishedAt ?? DateTimeOffset.UnixEpoch;
        await jobs.CreateAsync(
            new StoredReplayJob(id, ReplayJobState.Running, "alice", "{}", "here", at, null, 1, 1, 1, 0, 0, 0, 0, null, false), TimeSpan.FromHours(1), CancellationToken.None);
        if (finishedAt is not null)
        {
            Assert.True(await jobs.FinishAsync(id, "here", ReplayJobState.Completed, new ReplayJobCounts(1, 0, 0, 0), null, at, CancellationToken.None));
        }

        return id;
    }

    private static async Task<Guid> CaptureAsync(BridgeDatabase database, SqlDeadLetterStore store, DateTimeOffset at)
    {
        var letter = new NewDeadLetter(
            Guid.NewGuid(), "bridge.send-closing-document", "SendClosingDocument", Guid.NewGuid().ToString("D"), "doc", null, "application/json",
            DeadLetterBody.FromBytes("{}"u8), new Dictionary<string, string?>(), "System.TimeoutException", "timed out", null, 1, at);
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        var captured = await store.CaptureAsync(transaction, letter, CancellationToken.None);
        await transaction.CommitAsync();
        return captured.Id;
    }

    private static string ScratchDirectory { get; } = Directory.CreateTempSubdirectory("bridge-startup-").FullName;

    /// <summary>A Bridge on the in-memory transport and a SQLite file, so only the settings under test can stop it.</summary>
    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Bridge:Messaging:Transport"] = "InMemory",
            ["Bridge:Storage:Provider"] = "Sqlite",
            ["Bridge:Storage:ConnectionString"] = $"Data Source={Path.Combine(ScratchDirectory, $"bridge-startup-{Guid.NewGuid():N}.db")}",
            ["ActivePlatform:BaseUrl"] = "http://127.0.0.1:9/",
            ["ActivePlatform:ApiToken"] = "startup-test-token",
            ["ActivePlatform:ResellerId"] = "1",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddBridge();
        return builder.Build();
    }
}
