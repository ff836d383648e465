using System.Diagnostics.Metrics;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Tests.Infrastructure;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Bridge's own database going away for longer than the in-process retry budget (a restart, a fail-over) is an outage, not the
/// failure of every message in flight: each delivery is held while a probe gets no answer, nothing is dead-lettered (there
/// is nowhere to write a dead letter but the error queue), and every message is applied once when the database answers
/// again. The database is taken away from one Bridge only, through a relay the test cuts.
/// </summary>
[Collection(PipelineCollection4.Name)]
public sealed class DatabaseOutageTests(PipelineFixture fixture)
{
    private const int Documents = 4;

    [Fact]
    public async Task The_database_gone_longer_than_the_retry_budget_dead_letters_nothing_and_every_message_is_applied_once_when_it_is_back()
    {
        var database = new NpgsqlConnectionStringBuilder(fixture.DatabaseConnectionString);
        await using var relay = new TcpProxy(database.Host!, database.Port);
        database.Port = relay.Port;
        database.Timeout = 3;
        var prefix = $"bridge-dbout-{Guid.NewGuid():N}"[..24];
        var account = 9_400_000 + Random.Shared.Next(100_000);
        var keys = Enumerable.Range(0, Documents).Select(i => $"db-outage-{i:D2}-{Guid.NewGuid():N}").ToList();
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";

        await using var bridge = await fixture.StartBridgeAsync(prefix, ShortBudget(database.ConnectionString));
        var holds = 0;
        using var listener = CountOf(bridge.Get<Bridge.Host.Messaging.MessageMetrics>().Meter, "bridge.database.outage.holds", () => Interlocked.Increment(ref holds));

        // Through the relay, the database answers.
        var first = $"db-outage-before-{Guid.NewGuid():N}";
        await fixture.Erp.PublishJsonAsync(queue, Document(first, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(first);

        relay.Cut();
        try
        {
            foreach (var key in keys)
            {
                await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            }

            // Every delivery ran out of retries and is held, more than once (each hold ends with a probe that got no answer).
            await EventuallyAsync(() => Task.FromResult(Volatile.Read(ref holds)), held => held >= 2 * Documents);
            Assert.True(relay.Refused > 0, "the relay refused no connection: the database was never out of reach");
            Assert.Equal(0u, await CountAsync($"{queue}_error"));
            Assert.Empty(DeadLettered(keys));
        }
        finally
        {
            relay.Restore();
        }

        // The database answers again: every document is created once, and nothing was dead-lettered.
        foreach (var key in keys)
        {
            var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
            Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        }

        var created = await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
        foreach (var key in keys)
        {
            Assert.Single(created, c => c.ExternalInvoiceKey == key && c.Status is >= 200 and < 300);
            Assert.Single(fixture.Events.EventsFor(key));
        }

        Assert.Empty(DeadLettered(keys));
        Assert.Equal(0u, await CountAsync($"{queue}_error"));
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(queue));
    }

    [Fact]
    public async Task A_delivery_held_for_the_database_whose_rerun_fails_otherwise_goes_back_to_its_queue_and_is_applied_not_dead_lettered()
    {
        // Held on its last attempt while the database was away; when it is back, the rerun fails once more on something else
        // (here: the idempotency record's begin throws once, as a deadlock among all the held deliveries rerunning would).
        // Its retries were spent on the outage: it goes back to its queue and comes back with them, and is applied once.
        var database = new NpgsqlConnectionStringBuilder(fixture.DatabaseConnectionString);
        await using var relay = new TcpProxy(database.Host!, database.Port);
        database.Port = relay.Port;
        database.Timeout = 3;
        var prefix = $"bridge-dbre-{Guid.NewGuid():N}"[..23];
        var account = 9_300_000 + Random.Shared.Next(100_000);
        var key = $"db-rerun-{Guid.NewGuid():N}";
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        var failNextBegin = new FailOnce();

        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            ShortBudget(database.ConnectionString),
            services => services.AddSingleton<Bridge.Host.Storage.IIdempotencyStore>(sp => new FailingBegin(
                ActivatorUtilities.CreateInstance<Bridge.Host.Storage.SqlIdempotencyStore>(sp), failNextBegin)));
        var holds = 0;
        var requeued = 0;
        var meter = bridge.Get<Bridge.Host.Messaging.MessageMetrics>().Meter;
        using var heldListener = CountOf(meter, "bridge.database.outage.holds", () => Interlocked.Increment(ref holds));
        using var requeuedListener = CountOf(meter, "bridge.database.outage.requeued", () => Interlocked.Increment(ref requeued));

        relay.Cut();
        try
        {
            await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            await EventuallyAsync(() => Task.FromResult(Volatile.Read(ref holds)), held => held >= 1);
            failNextBegin.Arm();
        }
        finally
        {
            relay.Restore();
        }

        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        Assert.True(failNextBegin.Fired, "the rerun never met the failure the test set up");
        Assert.True(Volatile.Read(ref requeued) >= 1, "the delivery was not put back on its queue");
        Assert.Single(fixture.Events.EventsFor(key));
        Assert.Empty(DeadLettered([key]));
        Assert.Equal(0u, await CountAsync($"{queue}_error"));
    }

    [Fact]
    public async Task An_answer_recorded_while_the_database_is_away_is_recorded_when_it_is_back_not_left_open()
    {
        // ActivePlatform answered; the database went away before the answer was written. The write waits for the database
        // (within DatabaseFailures.AnswerPatience) instead of leaving the effect open, to be found unknown by the next delivery.
        var connection = new NpgsqlConnectionStringBuilder(fixture.DatabaseConnectionString);
        await using var relay = new TcpProxy(connection.Host!, connection.Port);
        connection.Port = relay.Port;
        connection.Timeout = 3;
        await using var database = new Bridge.Host.Storage.BridgeDatabase(new Bridge.Host.Storage.StorageOptions { Provider = Bridge.Host.Storage.SqlDialect.PostgreSql, ConnectionString = connection.ConnectionString });
        var journal = new Bridge.Host.Effects.SqlEffectJournal(database);
        var id = new Bridge.Host.Effects.EffectId("db-outage", $"effect-{Guid.NewGuid():N}", $"group-{Guid.NewGuid():N}");
        var attempt = await journal.TryBeginAsync(id, "owner", "fp", null, CancellationToken.None);
        Assert.NotNull(attempt);

        relay.Cut();
        var resolving = journal.ResolveAsync(id, attempt, Bridge.Host.Effects.EffectState.Applied, "resource-1", null, CancellationToken.None);
        await EventuallyAsync(() => Task.FromResult(relay.Refused), refused => refused >= 2);
        Assert.False(resolving.IsCompleted, "the write gave up while the database was away");
        relay.Restore();
        await resolving;

        var entry = await journal.FindAsync(id, CancellationToken.None);
        Assert.Equal((Bridge.Host.Effects.EffectState.Applied, "resource-1"), (entry!.State, entry.ResourceId));
    }

    /// <summary>Messages on <paramref name="queue"/>; 0 when it was never declared (MassTransit declares an error queue at its first use).</summary>
    private async Task<uint> CountAsync(string queue)
    {
        try
        {
            return await fixture.Erp.MessageCountAsync(queue);
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
    }

    private IReadOnlyList<ErpMessageDeadLettered> DeadLettered(IReadOnlyCollection<string> keys) =>
        fixture.Events.Received.Select(e => e.Event).OfType<ErpMessageDeadLettered>().Where(e => keys.Contains(e.Key)).ToList();

    /// <summary>A Bridge on <paramref name="connectionString"/> whose retries run out within a second, probing every 200 ms.</summary>
    /// <summary>
    /// The HTTP door while Bridge's database does not answer: a bare 500 (an unhandled NpgsqlException, seen by the chaos
    /// suite during PostgreSQL restarts) is now a 503 with Retry-After that says nothing was sent; once the database is back
    /// the same request is accepted and applied once.
    /// </summary>
    [Fact]
    public async Task The_door_answers_503_while_the_database_is_away_and_accepts_the_same_request_once_it_is_back()
    {
        var database = new NpgsqlConnectionStringBuilder(fixture.DatabaseConnectionString);
        await using var relay = new TcpProxy(database.Host!, database.Port);
        database.Port = relay.Port;
        database.Timeout = 3;
        const string ErpKey = "door-outage-erp-key-0123456789";
        var settings = ShortBudget(database.ConnectionString);
        settings["Bridge:Ingress:Clients:0:Name"] = "1c";
        settings["Bridge:Ingress:Clients:0:Key"] = ErpKey;
        var prefix = $"bridge-dbdoor-{Guid.NewGuid():N}"[..24];
        var app = await Bridge.Tests.DeadLetters.DeadLetterFixture.StartBridgeAsync(fixture.Settings(prefix, settings));
        try
        {
            using var door = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
            door.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ErpKey);
            var key = $"door-outage-{Guid.NewGuid():N}";
            var body = System.Text.Json.JsonSerializer.Serialize(Document(key, revision: 1, accountId: 9_300_000 + Random.Shared.Next(100_000)));
            HttpRequestMessage Send()
            {
                var request = new HttpRequestMessage(HttpMethod.Post, "api/messages/SendClosingDocument")
                {
                    Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
                };
                request.Content.Headers.Add(Bridge.Host.Ingress.IngressApi.IdempotencyKeyHeader, key);
                return request;
            }

            relay.Cut();
            System.Net.HttpStatusCode sent, polled;
            string? retryAfter, detail;
            try
            {
                using var refused = await door.SendAsync(Send());
                (sent, retryAfter, detail) = (refused.StatusCode, refused.Headers.RetryAfter?.ToString(), await refused.Content.ReadAsStringAsync());
                using var status = await door.GetAsync(new Uri($"api/messages/{key}", UriKind.Relative));
                polled = status.StatusCode;
            }
            finally
            {
                relay.Restore();
            }

            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, sent);
            Assert.Equal("5", retryAfter);
            Assert.Contains("Nothing was sent", detail, StringComparison.Ordinal);
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, polled);
            Assert.True(relay.Refused > 0, "the relay refused no connection: the database was never out of reach");

            using var accepted = await door.SendAsync(Send());
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
            Assert.Single(fixture.Events.EventsFor(key));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static Dictionary<string, string?> ShortBudget(string connectionString) => new()
    {
        ["Bridge:Storage:ConnectionString"] = connectionString,
        ["Bridge:Messaging:RetryLimit"] = "2",
        ["Bridge:Messaging:RetryMinInterval"] = "00:00:00.050",
        ["Bridge:Messaging:RetryMaxInterval"] = "00:00:00.100",
        ["Bridge:Outage:ProbeInterval"] = "00:00:00.200",
        ["Bridge:Outage:ProbeTimeout"] = "00:00:01",
    };

    /// <summary>Counts the measurements of <paramref name="instrument"/> on this Bridge's meter only.</summary>
    private static MeterListener CountOf(Meter meter, string instrument, Action counted)
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
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            for (var i = 0; i < value; i++)
            {
                counted();
            }
        });
        listener.Start();
        return listener;
    }

    private sealed class FailOnce
    {
        private int armed;
        private int fired;

        public bool Fired => Volatile.Read(ref fired) == 1;

        public void Arm() => Volatile.Write(ref armed, 1);

        public bool Fire() => Interlocked.Exchange(ref armed, 0) == 1 && Interlocked.Exchange(ref fired, 1) == 0;
    }

    /// <summary>The idempotency store, whose next begin after <see cref="FailOnce.Arm"/> fails once with a failure that is not the database's.</summary>
    private sealed class FailingBegin(Bridge.Host.Storage.IIdempotencyStore inner, FailOnce failure) : Bridge.Host.Storage.IIdempotencyStore
    {
        public Task<Bridge.Host.Storage.IdempotencyBegin> BeginAsync(string idempotencyKey, string messageType, string fingerprint, string? documentKey, CancellationToken cancellationToken)
            => failure.Fire()
                ? throw new InvalidOperationException("simulated: the rerun after the outage failed once on something else")
                : inner.BeginAsync(idempotencyKey, messageType, fingerprint, documentKey, cancellationToken);

        public Task<Bridge.Host.Storage.BeginAndClaim> BeginAndClaimAsync(
            string idempotencyKey, string messageType, string fingerprint, string scope, string documentKey, string owner, TimeSpan lease, string? replayCopy, CancellationToken cancellationToken)
            => failure.Fire()
                ? throw new InvalidOperationException("simulated: the rerun after the outage failed once on something else")
                : inner.BeginAndClaimAsync(idempotencyKey, messageType, fingerprint, scope, documentKey, owner, lease, replayCopy, cancellationToken);

        public Task DeleteBegunAsync(string idempotencyKey, string fingerprint, CancellationToken cancellationToken)

            => inner.DeleteBegunAsync(idempotencyKey, fingerprint, cancellationToken);


        public Task<Bridge.Host.Storage.IdempotencyRecord?> FindAsync(string idempotencyKey, CancellationToken cancellationToken)
            => inner.FindAsync(idempotencyKey, cancellationToken);

        public Task SetPendingAsyncTaskAsync(string idempotencyKey, string? asyncTaskId, CancellationToken cancellationToken)
            => inner.SetPendingAsyncTaskAsync(idempotencyKey, asyncTaskId, cancellationToken);

        public Task<bool> TryMarkUnjournaledSendAsync(string idempotencyKey, CancellationToken cancellationToken)
            => inner.TryMarkUnjournaledSendAsync(idempotencyKey, cancellationToken);

        public Task<Bridge.Host.Storage.EditHold?> FindEditHoldAsync(string idempotencyKey, CancellationToken cancellationToken)
            => inner.FindEditHoldAsync(idempotencyKey, cancellationToken);

        public Task<IReadOnlyList<Bridge.Host.Storage.IdempotencyRecord>> FindMarkedForDocumentAsync(string messageType, string documentKey, CancellationToken cancellationToken)
            => inner.FindMarkedForDocumentAsync(messageType, documentKey, cancellationToken);

        public Task<bool> CompleteAsync(System.Data.Common.DbTransaction transaction, string idempotencyKey, string outcome, string? resourceId, CancellationToken cancellationToken)
            => inner.CompleteAsync(transaction, idempotencyKey, outcome, resourceId, cancellationToken);

        public Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
            => inner.PurgeAsync(olderThan, cancellationToken);
    }
}
