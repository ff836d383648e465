using System.Diagnostics.Metrics;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// ActivePlatform down for longer than the in-process retry budget (issue 9 §2): Bridge pauses consumption instead of
/// burning retries, dead-letters nothing, and applies every message exactly once after ActivePlatform is back. The budget is
/// shrunk by configuration so the outage is short here; the mechanism (pause, probe, resume) has no bound of its own.
/// </summary>
[Collection(PipelineCollection3.Name)]
public sealed class OutageTests(PipelineFixture fixture)
{
    private const int Documents = 12;

    /// <summary>A retry budget of well under a second, and a probe every 200 ms while paused.</summary>
    private static Dictionary<string, string?> ShortBudget() => new()
    {
        ["Bridge:Messaging:RetryLimit"] = "2",
        ["Bridge:Messaging:RetryMinInterval"] = "00:00:00.050",
        ["Bridge:Messaging:RetryMaxInterval"] = "00:00:00.100",
        ["Bridge:Messaging:ConcurrentMessageLimit"] = "4",
        ["Bridge:Outage:ProbeInterval"] = "00:00:00.200",
        ["ActivePlatform:RetryCount"] = "1",
    };

    [Fact]
    public async Task ActivePlatform_answering_503_longer_than_the_retry_budget_pauses_consumption_dead_letters_nothing_and_applies_everything_once_after()
    {
        var prefix = $"bridge-out-{Guid.NewGuid():N}"[..22];
        var account = 9_500_000 + Random.Shared.Next(100_000);
        var keys = Enumerable.Range(0, Documents).Select(i => $"outage-{i:D2}-{Guid.NewGuid():N}").ToList();

        // ActivePlatform is down: every API call is answered 503 with no effect.
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { ErrorRate = 1, ErrorStatus = 503 }, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix, ShortBudget());
        var health = bridge.Get<HealthCheckService>();

        // Each message is answered once: no MassTransit Fault<T> when its retries ran out, and one handling outcome.
        var faults = new FaultCounter();
        using var faultObserver = bridge.Get<IBus>().ConnectPublishObserver(faults);
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var handled = HandledOf(bridge.Get<Bridge.Host.Messaging.MessageMetrics>().Meter, "SendClosingDocument", outcomes.Enqueue);
        try
        {
            foreach (var key in keys)
            {
                await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            }

            // Either Bridge pauses (its ActivePlatform health entry is Degraded), or a message exhausted its retries first.
            var paused = await EventuallyAsync(
                async () => (Paused: await IsPausedAsync(health), DeadLettered: DeadLettered(keys)),
                s => s.Paused || s.DeadLettered.Count > 0);
            Assert.Empty(paused.DeadLettered);

            // The outage goes on past the retry budget: Bridge probes ActivePlatform, and is answered 503 three times more.
            var before = (await fixture.Sandbox.Control.GetCallsAsync(null, null, null, CancellationToken.None)).Select(c => c.Sequence).DefaultIfEmpty().Max();
            await EventuallyAsync(
                async () => (await fixture.Sandbox.Control.GetCallsAsync("GET", "/currency_rates", null, CancellationToken.None)).Count(c => c.Sequence > before && c.Status == 503),
                probes => probes >= 3);
            Assert.True(await IsPausedAsync(health), "Bridge resumed while ActivePlatform was still down");
            Assert.Empty(DeadLettered(keys));
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        // ActivePlatform is back: every document is created, once, and nothing was dead-lettered.
        foreach (var key in keys)
        {
            var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
            Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        }

        Assert.Empty(DeadLettered(keys));
        var documents = await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None);
        var created = await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
        foreach (var key in keys)
        {
            Assert.Single(documents, d => d.Key == key);
            Assert.Single(created, c => c.ExternalInvoiceKey == key && c.Status is >= 200 and < 300);
            Assert.Single(fixture.Events.EventsFor(key));
        }

        Assert.Equal(0u, await fixture.Erp.MessageCountAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}"));
        await EventuallyAsync(() => IsPausedAsync(health), paused => !paused);
        Assert.Equal(0, faults.Count);
        // An outcome is recorded once its delivery's pipeline ends, which may be after its event was received.
        await EventuallyAsync(() => Task.FromResult(outcomes.Count), recorded => recorded >= Documents);
        Assert.Equal(Enumerable.Repeat("Applied", Documents), outcomes.ToList());

        // Every input queue consumes after the outage, not only the one that met it (a receive endpoint restarted after a pause
        // could hang in its set-up for good: that queue was never consumed again and the host could not stop).
        var ready = await EventuallyAsync(() => health.CheckHealthAsync(check => check.Tags.Contains("ready")), r => r.Status == HealthStatus.Healthy);
        Assert.Equal(HealthStatus.Healthy, ready.Entries["bus"].Status);
    }

    [Fact]
    public async Task A_Bridge_stopped_while_paused_puts_the_held_deliveries_back_and_the_next_one_applies_each_once()
    {
        var prefix = $"bridge-held-{Guid.NewGuid():N}"[..23];
        var account = 9_300_000 + Random.Shared.Next(100_000);
        var keys = Enumerable.Range(0, 4).Select(i => $"held-{i}-{Guid.NewGuid():N}").ToList();
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";

        // A hold limit of a second: held deliveries go back to their queue and come straight back to be held again.
        var settings = ShortBudget();
        settings["Bridge:Outage:HoldLimit"] = "00:00:01";
        var requeued = 0L;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Bridge" && instrument.Name == "bridge.activeplatform.outage.requeued")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "queue" && tag.Value is string q && q == queue)
                {
                    Interlocked.Add(ref requeued, value);
                }
            }
        });
        var outageRetries = 0L;
        meters.Start();

        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { ErrorRate = 1, ErrorStatus = 503 }, CancellationToken.None);
        try
        {
            var first = await fixture.StartBridgeAsync(prefix, settings);
            var health = first.Get<HealthCheckService>();
            using var retries = RetriesOf(first.Get<Bridge.Host.Messaging.MessageMetrics>().Meter, "SendClosingDocument", nameof(Bridge.Host.Messaging.ActivePlatformOutageException), () => Interlocked.Increment(ref outageRetries));
            foreach (var key in keys)
            {
                await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            }

            await EventuallyAsync(() => IsPausedAsync(health), paused => paused);

            // More deliveries go back (hold limits passed, and the ones whose retries ran out) than there are messages.
            await EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref requeued)), n => n > keys.Count);

            // A delivery put back goes back to its queue: the outage filter is outside the retries, which never see it (inside
            // them, each hold that ended was retried in process and held again, the delivery unacknowledged for retries × limit).
            Assert.Equal(0, Interlocked.Read(ref outageRetries));

            // The host stops while deliveries are held: they go back to the queue, nothing is dead-lettered or lost.
            await first.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal((uint)keys.Count, await fixture.Erp.MessageCountAsync(queue));
            Assert.Empty(DeadLettered(keys));
            Assert.Empty(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None));
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        // The next Bridge on those queues applies each document once.
        await using var next = await fixture.StartBridgeAsync(prefix, ShortBudget());
        foreach (var key in keys)
        {
            var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
            Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        }

        var created = await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
        Assert.All(keys, key => Assert.Single(created, c => c.ExternalInvoiceKey == key && c.Status is >= 200 and < 300));
        Assert.All(keys, key => Assert.Single(fixture.Events.EventsFor(key)));
        Assert.Empty(DeadLettered(keys));
    }

    [Fact]
    public async Task ActivePlatform_refusing_connections_pauses_consumption_until_it_listens_and_nothing_is_dead_lettered()
    {
        var prefix = $"bridge-refused-{Guid.NewGuid():N}"[..26];
        // The port is held (bound, never listening: every connection is refused) so that no other process on this busy
        // machine can take it and answer the probe before the sandbox starts on it.
        using var holder = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        holder.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)holder.LocalEndPoint!).Port;
        var keys = Enumerable.Range(0, 4).Select(i => $"refused-{i}-{Guid.NewGuid():N}").ToList();

        // An account of its own: the new sandbox numbers documents from 1001 again, and in the suite's shared database an id
        // already journaled for this account by another test would be one ActivePlatform resource claimed by two effects.
        var account = 9_400_000 + Random.Shared.Next(100_000);

        // Nothing listens at ActivePlatform's address: every connection is refused.
        var settings = ShortBudget();
        settings["ActivePlatform:BaseUrl"] = $"http://127.0.0.1:{port}/";
        await using var bridge = await fixture.StartBridgeAsync(prefix, settings);
        var health = bridge.Get<HealthCheckService>();
        foreach (var key in keys)
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        }

        var paused = await EventuallyAsync(
            async () => (Paused: await IsPausedAsync(health), DeadLettered: DeadLettered(keys)),
            s => s.Paused || s.DeadLettered.Count > 0);
        Assert.Empty(paused.DeadLettered);

        // ActivePlatform comes up at that address: the next probe resumes consumption and every document is created once.
        holder.Close();
        await using var sandbox = await SandboxServer.StartAsync(new SandboxSettings { ListenPort = port }.WithTestAccounts(), CancellationToken.None);
        foreach (var key in keys)
        {
            var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
            var calls = await sandbox.Control.GetCallsAsync(null, null, null, CancellationToken.None);
            Assert.True(
                sent.Outcome == ClosingDocumentWriteOutcome.Created,
                $"{key}: {sent.Outcome}; events: {string.Join(" | ", fixture.Events.Received.Select(e => e.Event).Where(e => e.Key == key))}; calls: {string.Join(" | ", calls.Select(c => $"{c.Sequence} {c.Method} {c.Path}?{c.Query} {c.Status} {c.ExternalInvoiceKey} {c.DurationMs}"))}");
        }

        var documents = await sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None);
        Assert.All(keys, key => Assert.Single(documents, d => d.Key == key));
        Assert.Empty(DeadLettered(keys));
        await EventuallyAsync(() => IsPausedAsync(health), p => !p);
    }

    [Fact]
    public async Task Messages_released_while_the_clients_circuit_breaker_is_still_open_wait_out_the_break_and_are_not_dead_lettered()
    {
        var prefix = $"bridge-circuit-{Guid.NewGuid():N}"[..26];
        var account = 9_200_000 + Random.Shared.Next(100_000);
        var keys = Enumerable.Range(0, 4).Select(i => $"circuit-{i}-{Guid.NewGuid():N}").ToList();

        // The breaker opens after two failures and stays open for 3 s; no in-process retry after the first failure.
        var settings = ShortBudget();
        settings["Bridge:Messaging:RetryLimit"] = "0";
        settings["ActivePlatform:CircuitBreakerMinimumThroughput"] = "2";
        settings["ActivePlatform:CircuitBreakerBreakDuration"] = "00:00:03";
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { ErrorRate = 1, ErrorStatus = 503 }, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix, settings);
        var health = bridge.Get<HealthCheckService>();
        try
        {
            foreach (var key in keys)
            {
                await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            }

            var paused = await EventuallyAsync(
                async () => (Paused: await IsPausedAsync(health), DeadLettered: DeadLettered(keys)),
                s => s.Paused || s.DeadLettered.Count > 0);
            Assert.Empty(paused.DeadLettered);
        }
        finally
        {
            // ActivePlatform is back at once; the probe (its own client) sees it, the breaker is still open for a while.
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        foreach (var key in keys)
        {
            var settled = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key);
            Assert.True(settled is ClosingDocumentSent { Outcome: ClosingDocumentWriteOutcome.Created }, $"{key}: {settled}");
        }

        Assert.Empty(DeadLettered(keys));
    }

    [Fact]
    public async Task A_message_ActivePlatform_keeps_failing_while_it_answers_the_probe_is_dead_lettered_even_when_its_failures_keep_the_breaker_open()
    {
        var prefix = $"bridge-broken-{Guid.NewGuid():N}"[..25];
        var account = 9_000_000 + Random.Shared.Next(100_000);
        var key = $"broken-{Guid.NewGuid():N}";
        var settings = ShortBudget();
        settings["ActivePlatform:CircuitBreakerMinimumThroughput"] = "2";
        settings["ActivePlatform:CircuitBreakerBreakDuration"] = "00:00:01";
        settings["Bridge:Outage:HoldLimit"] = "00:00:05";

        // This document's writes fail; everything else, the probe included, is answered.
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { PathContains = $"/accounts/{account}/", ErrorRate = 1, ErrorStatus = 500 }, CancellationToken.None);
        try
        {
            await using var bridge = await fixture.StartBridgeAsync(prefix, settings);
            await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));

            // Dead-lettered: its own failure (a 500, or the breaker its 500s keep open, waited out a few times at most).
            var deadLettered = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);
            Assert.Equal(SendClosingDocumentConsumer.Queue, deadLettered.Queue[(prefix.Length + 1)..]);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
    }

    [Fact]
    public async Task On_the_in_memory_transport_a_message_held_through_an_outage_is_applied_after_it_not_dropped()
    {
        // The in-memory transport (the try-it mode) cannot put a delivery back: a message given back to it is gone. There the
        // delivery is held until ActivePlatform answers, however long, and then runs again.
        var prefix = $"bridge-mem-{Guid.NewGuid():N}"[..22];
        var account = 9_100_000 + Random.Shared.Next(100_000);
        var key = $"in-memory-{Guid.NewGuid():N}";
        var settings = ShortBudget();
        settings["Bridge:Messaging:Transport"] = "InMemory";
        settings["Bridge:Outage:HoldLimit"] = "00:00:01";
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { ErrorRate = 1, ErrorStatus = 503 }, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix, settings);
        var health = bridge.Get<HealthCheckService>();
        try
        {
            var message = System.Text.Json.JsonSerializer.Deserialize<SendClosingDocument>(
                System.Text.Json.JsonSerializer.Serialize(Document(key, revision: 1, accountId: account)),
                new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
            var endpoint = await bridge.Get<IBus>().GetSendEndpoint(new Uri($"queue:{prefix}.{SendClosingDocumentConsumer.Queue}"));
            await endpoint.Send(message);

            await EventuallyAsync(() => IsPausedAsync(health), paused => paused);

            // Held past the hold limit, which RabbitMQ needs and the in-memory transport does not.
            var probes = (await fixture.Sandbox.Control.GetCallsAsync("GET", "/currency_rates", null, CancellationToken.None)).Count;
            await EventuallyAsync(
                async () => (await fixture.Sandbox.Control.GetCallsAsync("GET", "/currency_rates", null, CancellationToken.None)).Count,
                n => n >= probes + 8);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        var documents = await EventuallyAsync(
            () => fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None),
            all => all.Any(d => d.Key == key));
        Assert.Single(documents, d => d.Key == key);
    }

    /// <summary>Counts MassTransit's Fault&lt;T&gt; events published by a Bridge.</summary>
    private sealed class FaultCounter : IPublishObserver
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        public Task PrePublish<T>(PublishContext<T> context)
            where T : class
        {
            if (typeof(T).IsGenericType && typeof(T).GetGenericTypeDefinition() == typeof(Fault<>))
            {
                Interlocked.Increment(ref count);
            }

            return Task.CompletedTask;
        }

        public Task PostPublish<T>(PublishContext<T> context)
            where T : class => Task.CompletedTask;

        public Task PublishFault<T>(PublishContext<T> context, Exception exception)
            where T : class => Task.CompletedTask;
    }

    /// <summary>Records the outcome of every handled <paramref name="flow"/> delivery.</summary>
    private static MeterListener HandledOf(Meter meter, string flow, Action<string> outcome) =>
        Listen(meter, "bridge.messages.handled", flow, "outcome", value => outcome(value));

    /// <summary>Counts in-process retries of <paramref name="flow"/> whose reason is <paramref name="reason"/>.</summary>
    private static MeterListener RetriesOf(Meter meter, string flow, string reason, Action counted) =>
        Listen(meter, "bridge.messages.retries", flow, "reason", value =>
        {
            if (value == reason)
            {
                counted();
            }
        });

    /// <summary>
    /// Calls <paramref name="measured"/> with the <paramref name="tag"/> of every measurement of <paramref name="instrument"/>
    /// for <paramref name="flow"/> on this Bridge's meter only: the dead-letter tests' Bridge, in the same process, handles
    /// the same flows meanwhile.
    /// </summary>
    private static MeterListener Listen(Meter meter, string instrument, string flow, string tag, Action<string> measured)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (published, l) =>
            {
                if (ReferenceEquals(published.Meter, meter) && published.Name == instrument)
                {
                    l.EnableMeasurementEvents(published);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? f = null, value = null;
            foreach (var t in tags)
            {
                if (t.Key == "flow")
                {
                    f = t.Value as string;
                }
                else if (t.Key == tag)
                {
                    value = t.Value as string;
                }
            }

            if (f == flow && value is not null)
            {
                measured(value);
            }
        });
        listener.Start();
        return listener;
    }

    private static async Task<bool> IsPausedAsync(HealthCheckService health)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains("ready"));
        return report.Entries.TryGetValue("activeplatform", out var entry) && entry.Status == HealthStatus.Degraded;
    }

    private IReadOnlyList<ErpMessageDeadLettered> DeadLettered(IReadOnlyCollection<string> keys) =>
        fixture.Events.Received.Select(e => e.Event).OfType<ErpMessageDeadLettered>().Where(e => keys.Contains(e.Key)).ToList();
}
