using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.Outbox;
using Bridge.Host.Storage;
using Bridge.Tests.ActivePlatform;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit;

namespace Bridge.Tests.Storage;

/// <summary>
/// The dispatcher against a real database and a broker stand-in that refuses one event type: rows that cannot be
/// published must never hold back the ones behind them.
/// </summary>
public abstract class OutboxDispatchTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : StorageFixture
{
    private const int BatchSize = 5;

    private const int MaxAttempts = 3;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestClock clock = new(Start);

    private readonly RecordingBus bus = RecordingBus.Create(refusing: typeof(ClosingDocumentSent));

    private SqlOutboxStore Outbox => new(fixture.Database, clock);

    private readonly CapturingLoggerProvider logs = new();

    private readonly ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private static OutboxOptions Settings => new()
    {
        BatchSize = BatchSize,
        MaxAttempts = MaxAttempts,
        RetryBaseDelay = TimeSpan.FromMinutes(1),
        RetryMaxDelay = TimeSpan.FromMinutes(3),
    };

    public Task InitializeAsync() => fixture.ResetAsync();

    public async Task DisposeAsync() => await services.DisposeAsync();

    [StoreFact]
    public async Task A_batch_of_events_the_broker_refuses_does_not_hold_back_a_newer_event()
    {
        var refused = Enumerable.Range(0, BatchSize).Select(i => Sent($"refused-{i}", Start.AddMilliseconds(i))).ToArray();
        var good = Skipped("good", Start.AddSeconds(1));
        await EnqueueAsync([.. refused, good]);
        var dispatcher = NewDispatcher();

        for (var pass = 0; pass < 3 && !bus.WasPublished("good"); pass++)
        {
            await dispatcher.DispatchBatchAsync(Settings, CancellationToken.None);
        }

        Assert.True(bus.WasPublished("good"), "the newer event was never published");
    }

    [StoreFact]
    public async Task A_batch_of_events_whose_body_cannot_be_published_does_not_hold_back_a_newer_event()
    {
        var unreadable = Enumerable.Range(0, BatchSize)
            .Select(i => new OutboxMessage(Guid.NewGuid(), nameof(ClosingDocumentSkipped), "{}", "{}", Start.AddMilliseconds(i), 0))
            .ToArray();
        var good = Skipped("good", Start.AddSeconds(1));
        await EnqueueAsync([.. unreadable, good]);
        var dispatcher = NewDispatcher();

        for (var pass = 0; pass < 3 && !bus.WasPublished("good"); pass++)
        {
            await dispatcher.DispatchBatchAsync(Settings, CancellationToken.None);
        }

        Assert.True(bus.WasPublished("good"), "the newer event was never published");
    }

    [StoreFact]
    public async Task A_batch_is_published_all_at_once_and_only_the_published_rows_are_marked()
    {
        var good = Enumerable.Range(0, 3).Select(i => Skipped($"good-{i}", Start.AddMilliseconds(i))).ToArray();
        var refused = Enumerable.Range(0, 2).Select(i => Sent($"refused-{i}", Start.AddMilliseconds(10 + i))).ToArray();
        await EnqueueAsync([.. good, .. refused]);

        // No publish completes before all five are under way: one at a time, the batch would never end.
        var underWay = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bus.Gate = async (_, token) =>
        {
            if (Interlocked.Increment(ref underWay) == BatchSize - refused.Length)
            {
                all.TrySetResult();
            }

            await all.Task.WaitAsync(token);
        };

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var result = await NewDispatcher().DispatchBatchAsync(Settings, CancellationToken.None).WaitAsync(timeout.Token);

        Assert.Equal(new OutboxDispatcher.BatchResult(BatchSize, refused.Length), result);
        Assert.All(good, message => Assert.True(bus.WasPublished(((ClosingDocumentSkipped)ResultEvents.Deserialize(message)).Key)));
        // The published rows are dispatched (one statement); the refused ones wait out their retry delay, not claimable now.
        Assert.Equal(refused.Length, await Outbox.CountPendingAsync(CancellationToken.None));
        Assert.Empty(await Outbox.ClaimAsync("another", BatchSize, TimeSpan.FromMinutes(1), CancellationToken.None));
    }

    [StoreFact]
    public async Task A_publish_the_broker_never_confirms_fails_after_half_the_lease_without_holding_back_the_batch()
    {
        var messages = Enumerable.Range(0, 3).Select(i => Skipped($"m-{i}", Start.AddMilliseconds(i))).ToArray();
        await EnqueueAsync(messages);
        var stuck = ((ClosingDocumentSkipped)ResultEvents.Deserialize(messages[1])).Key;
        bus.Gate = (message, token) => ((ClosingDocumentSkipped)message).Key == stuck ? Task.Delay(Timeout.Infinite, token) : Task.CompletedTask;
        var settings = new OutboxOptions { BatchSize = BatchSize, MaxAttempts = MaxAttempts, ClaimLease = TimeSpan.FromSeconds(2), RetryBaseDelay = TimeSpan.FromMinutes(1) };

        var result = await NewDispatcher().DispatchBatchAsync(settings, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(new OutboxDispatcher.BatchResult(3, 1), result);
        Assert.Equal(1, await Outbox.CountPendingAsync(CancellationToken.None));
        var warning = Assert.Single(logs.Lines, line => line.Contains(messages[1].Id.ToString(), StringComparison.Ordinal));
        Assert.Contains("did not confirm", warning, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task A_batch_cut_short_by_shutdown_marks_what_was_published_and_counts_no_failure()
    {
        var messages = Enumerable.Range(0, 4).Select(i => Skipped($"m-{i}", Start.AddMilliseconds(i))).ToArray();
        await EnqueueAsync(messages);
        using var shutdown = new CancellationTokenSource();
        var stuck = messages.Skip(2).Select(m => ((ClosingDocumentSkipped)ResultEvents.Deserialize(m)).Key).ToHashSet();
        var waiting = 0;
        bus.Gate = async (message, token) =>
        {
            if (stuck.Contains(((ClosingDocumentSkipped)message).Key))
            {
                // The broker never confirms these two; the shutdown comes once both are under way.
                if (Interlocked.Increment(ref waiting) == stuck.Count)
                {
                    await shutdown.CancelAsync();
                }

                await Task.Delay(Timeout.Infinite, token);
            }
        };

        // (Bounded: were the batch published one at a time, the second stuck publish would never start and nothing would end.)
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => NewDispatcher().DispatchBatchAsync(Settings, shutdown.Token).WaitAsync(TimeSpan.FromMinutes(1)));

        // The two published are marked; the two cut short are no failure (no attempt counted) and come back after the lease.
        Assert.Equal(2, await Outbox.CountPendingAsync(CancellationToken.None));
        await fixture.AgeLeasesAsync(Settings.ClaimLease + TimeSpan.FromSeconds(1));
        var again = await Outbox.ClaimAsync("next", BatchSize, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(messages.Skip(2).Select(m => m.Id).Order(), again.Select(m => m.Id).Order());
        Assert.All(again, message => Assert.Equal(0, message.Attempts));
    }

    [StoreFact]
    public async Task A_refused_event_is_retried_after_its_delay_then_parked_logged_counted_and_kept()
    {
        var refused = Sent("refused", Start);
        await EnqueueAsync(refused);
        var dispatcher = NewDispatcher();
        using var parkedCount = new MeasurementRecorder(services.GetRequiredService<IMeterFactory>(), "bridge.outbox.parked");

        var attempts = new List<int>();
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var result = await dispatcher.DispatchBatchAsync(Settings, CancellationToken.None);
            attempts.Add(result.Failed);

            // Not due again before its delay has passed by the database's clock; due once it has.
            Assert.Equal(0, (await dispatcher.DispatchBatchAsync(Settings, CancellationToken.None)).Claimed);
            await fixture.AgeLeasesAsync(Settings.RetryDelay(attempt) + TimeSpan.FromSeconds(30));
        }

        Assert.Equal([1, 1, 1], attempts);
        Assert.Equal(MaxAttempts, bus.Refusals);
        Assert.Equal(0, (await dispatcher.DispatchBatchAsync(Settings, CancellationToken.None)).Claimed);
        Assert.Equal(1, await Outbox.CountParkedAsync(CancellationToken.None));
        Assert.Equal(0, await Outbox.CountPendingAsync(CancellationToken.None));
        Assert.Equal(1, parkedCount.Total);
        var error = Assert.Single(logs.Lines, line => line.Contains(" Error ", StringComparison.Ordinal));
        Assert.Contains(refused.Id.ToString(), error, StringComparison.Ordinal);
        Assert.Contains("parked", error, StringComparison.Ordinal);

        var health = await new OutboxHealthCheck(Outbox).CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Equal(1L, health.Data["parked"]);
    }

    [StoreFact]
    public async Task A_broker_outage_longer_than_the_retry_budget_parks_nothing_and_every_event_is_published_once_it_is_back()
    {
        // "Published at least once" must not need an operator after an outage: only a message the broker refuses as such is
        // parked, never every waiting one because the broker was away for longer than MaxAttempts retries.
        var keys = Enumerable.Range(0, 3).Select(i => $"waiting-{i}").ToArray();
        var waiting = keys.Select((key, i) => Skipped(key, Start.AddMilliseconds(i))).ToArray();
        await EnqueueAsync(waiting);
        var dispatcher = NewDispatcher();
        bus.Outage = true;

        for (var attempt = 1; attempt <= MaxAttempts + 2; attempt++)
        {
            Assert.Equal(3, (await dispatcher.DispatchBatchAsync(Settings, CancellationToken.None)).Failed);
            await fixture.AgeLeasesAsync(Settings.RetryDelay(attempt) + TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, await Outbox.CountParkedAsync(CancellationToken.None));
        bus.Outage = false;
        await dispatcher.DispatchBatchAsync(Settings, CancellationToken.None);
        Assert.All(keys, key => Assert.True(bus.WasPublished(key), $"{key} was not published"));
        Assert.Equal(0, await Outbox.CountPendingAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task Trace_context_is_kept_with_the_row_and_the_backlog_dates_the_oldest_pending_message()
    {
        var traced = Skipped("traced", Start) with { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TraceState = "vendor=x" };
        await EnqueueAsync(traced, Skipped("newer", Start.AddMinutes(5)));

        Assert.Equal(new OutboxBacklog(2, 0, Start), await Outbox.GetBacklogAsync(CancellationToken.None));
        var claimed = await Outbox.ClaimAsync("owner", 10, TimeSpan.FromMinutes(1), CancellationToken.None);
        var row = Assert.Single(claimed, message => message.Id == traced.Id);
        Assert.Equal(traced.TraceParent, row.TraceParent);
        Assert.Equal("vendor=x", row.TraceState);
        Assert.Null(Assert.Single(claimed, message => message.Id != traced.Id).TraceParent);

        await Outbox.MarkDispatchedAsync([traced.Id], "owner", CancellationToken.None);
        Assert.Equal(new OutboxBacklog(1, 0, Start.AddMinutes(5)), await Outbox.GetBacklogAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task An_empty_outbox_has_no_oldest_pending_message()
    {
        Assert.Equal(new OutboxBacklog(0, 0, null), await Outbox.GetBacklogAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task Outbox_health_is_healthy_while_nothing_is_parked()
    {
        await EnqueueAsync(Skipped("waiting", Start));

        var health = await new OutboxHealthCheck(Outbox).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(1L, health.Data["pending"]);
    }

    private OutboxDispatcher NewDispatcher() => new(
        Outbox,
        bus.AsBus(),
        new OutboxSignal(),
        Options.Create(Settings),
        new OutboxMetrics(services.GetRequiredService<IMeterFactory>()),
        clock,
        new LoggerFactory([logs]).CreateLogger<OutboxDispatcher>());

    private static OutboxMessage Sent(string key, DateTimeOffset createdAt) => Message(new ClosingDocumentSent
    {
        Key = key,
        MessageId = "m-" + key,
        CorrelationId = Guid.NewGuid().ToString(),
        OccurredAt = createdAt,
        ResellerId = 1,
        AccountId = 2,
        ExternalInvoiceId = "ap-" + key,
        Outcome = ClosingDocumentWriteOutcome.Created,
    }, createdAt);

    private static OutboxMessage Skipped(string key, DateTimeOffset createdAt) => Message(new ClosingDocumentSkipped
    {
        Key = key,
        MessageId = "m-" + key,
        CorrelationId = Guid.NewGuid().ToString(),
        OccurredAt = createdAt,
        AccountId = 2,
        SkippedVersion = "1",
        AppliedVersion = "2",
    }, createdAt);

    private static OutboxMessage Message(IResultEvent resultEvent, DateTimeOffset createdAt) => new(
        Guid.NewGuid(), resultEvent.GetType().Name, JsonSerializer.Serialize(resultEvent, resultEvent.GetType(), Json), "{}", createdAt, 0);

    private async Task EnqueueAsync(params OutboxMessage[] messages)
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var message in messages)
        {
            await Outbox.EnqueueAsync(transaction, message, CancellationToken.None);
        }

        await transaction.CommitAsync();
    }
}

public sealed class OutboxOptionsTests
{
    [Fact]
    public void Retry_delay_doubles_from_the_base_and_stops_at_the_cap()
    {
        var settings = new OutboxOptions { RetryBaseDelay = TimeSpan.FromSeconds(5), RetryMaxDelay = TimeSpan.FromMinutes(5) };

        Assert.Equal(
            [5, 10, 20, 40, 80, 160, 300, 300],
            Enumerable.Range(1, 8).Select(attempt => settings.RetryDelay(attempt).TotalSeconds));
        Assert.Equal(TimeSpan.FromMinutes(5), settings.RetryDelay(1000));
    }
}

public sealed class PostgreSqlOutboxDispatchTests(PostgreSqlStorageFixture fixture) : OutboxDispatchTests<PostgreSqlStorageFixture>(fixture);

public sealed class SqliteOutboxDispatchTests(SqliteStorageFixture fixture) : OutboxDispatchTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerOutboxDispatchTests(SqlServerStorageFixture fixture) : OutboxDispatchTests<SqlServerStorageFixture>(fixture);

/// <summary>Sums what one instrument of the <c>Bridge</c> meter records while it lives.</summary>
internal sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener listener = new();
    private long total;

    public MeasurementRecorder(IMeterFactory meterFactory, string instrument)
    {
        var meter = meterFactory.Create("Bridge");
        listener.InstrumentPublished = (published, l) =>
        {
            if (ReferenceEquals(published.Meter, meter) && published.Name == instrument)
            {
                l.EnableMeasurementEvents(published);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref total, value));
        listener.Start();
    }

    public long Total => Interlocked.Read(ref total);

    public void Dispose() => listener.Dispose();
}

/// <summary>
/// Stands in for the bus: records every event published through <c>Publish(object, Type, pipe, token)</c> (the one overload
/// the dispatcher uses) and throws for the refused type, as a broker refusing a publish would.
/// </summary>
public class RecordingBus : DispatchProxy
{
    private Type refused = typeof(void);

    private int refusals;

    public ConcurrentQueue<object> Published { get; } = new();

    /// <summary>Awaited by every publish before it counts as published (null: published at once).</summary>
    public Func<object, CancellationToken, Task>? Gate { get; set; }

    public int Refusals => Volatile.Read(ref refusals);

    /// <summary>While set, every publish fails as it does when the broker cannot be reached.</summary>
    public bool Outage { get; set; }

    public static RecordingBus Create(Type refusing)
    {
        var proxy = DispatchProxy.Create<IBus, RecordingBus>();
        var recorder = (RecordingBus)(object)proxy;
        recorder.refused = refusing;
        return recorder;
    }

    public IBus AsBus() => (IBus)(object)this;

    public bool WasPublished(string key) => Published.Any(published => published switch
    {
        ClosingDocumentSent sent => sent.Key == key,
        ClosingDocumentSkipped skipped => skipped.Key == key,
        _ => false,
    });

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod is { Name: nameof(IPublishEndpoint.Publish), IsGenericMethod: false } && args is [{ } message, Type type, _, _])
        {
            if (Outage)
            {
                return Task.FromException(new RabbitMQ.Client.Exceptions.BrokerUnreachableException(new IOException("Connection refused")));
            }

            if (type == refused)
            {
                Interlocked.Increment(ref refusals);
                return Task.FromException(new InvalidOperationException($"The broker refused {type.Name}."));
            }

            if (Gate is null)
            {
                Published.Enqueue(message);
                return Task.CompletedTask;
            }

            var token = args[3] is CancellationToken t ? t : CancellationToken.None;
            return PublishThroughGateAsync(Gate, message, token);
        }

        throw new NotSupportedException($"The test bus does not support {targetMethod?.Name}.");
    }

    private async Task PublishThroughGateAsync(Func<object, CancellationToken, Task> gate, object message, CancellationToken cancellationToken)
    {
        await gate(message, cancellationToken);
        Published.Enqueue(message);
    }
}
