using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.DeadLetters;
using Bridge.Host.DeadLetters.Capture;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using MassTransit;
using RabbitMQ.Client;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// Messages MassTransit moved to an <c>_error</c> queue because the database could not store them (with its
/// <c>MT-Fault-*</c> headers) are drained into the dead-letter store by <see cref="ErrorQueueSweeper"/>, on real RabbitMQ and PostgreSQL.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed class ErrorQueueSweepTests(DeadLetterFixture fixture)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static int _nextAccount = 9700;

    private static readonly DateTimeOffset FaultedAt = new(2026, 11, 20, 8, 30, 15, TimeSpan.Zero);

    private string SendQueue => fixture.Queue(SendClosingDocumentConsumer.Queue);

    private string ErrorQueue => SendQueue + Bridge.Host.Messaging.InputQueues.ErrorQueueSuffix;

    [Fact]
    public async Task A_message_left_on_the_error_queue_becomes_one_dead_letter_that_replays_to_its_input_queue()
    {
        var (key, messageId) = (Guid.NewGuid().ToString("D"), NewId.NextGuid().ToString("D"));
        var body = JsonSerializer.SerializeToUtf8Bytes(Document(key, revision: 1, accountId: Interlocked.Increment(ref _nextAccount)), Json);
        var imports = 0L;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, fixture.Get<DeadLetterMetrics>().Meter) && instrument.Name == "bridge.dead_letters.error_queue_imports")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref imports, value));
        meters.Start();
        await PutOnErrorQueueAsync(body, messageId);

        await fixture.Get<ErrorQueueSweeper>().SweepAsync(CancellationToken.None);

        Assert.True(Interlocked.Read(ref imports) >= 1);
        var letter = await SingleDeadLetterAsync(messageId);
        var announced = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        Assert.Equal((letter.Letter.Id, SendQueue, "SendClosingDocument", key), (announced.DeadLetterId, announced.Queue, announced.MessageType, announced.Key));
        Assert.Equal(Encoding.UTF8.GetString(body), letter.Letter.Body.Text);
        Assert.Equal((SendQueue, "SendClosingDocument", key), (letter.Letter.Summary.SourceQueue, letter.Letter.Summary.MessageType, letter.Letter.Summary.ErpKey));
        Assert.Equal(("System.TimeoutException", "The database did not answer in time"), (letter.Letter.Summary.ExceptionType, letter.Letter.Summary.ExceptionMessage));
        Assert.Equal("   at Bridge.Somewhere()", letter.Letter.StackTrace);
        Assert.Equal((FaultedAt, 3), (letter.Letter.Summary.LastFailedAt, letter.Letter.Summary.AttemptCount));
        Assert.Equal((messageId, "application/json", "erp-1c"), (letter.Letter.Headers["amqp:message_id"], letter.Letter.Headers["amqp:content_type"], letter.Letter.Headers["x-erp"]));
        Assert.DoesNotContain(letter.Letter.Headers.Keys, name => name.StartsWith("MT-Fault-", StringComparison.Ordinal) || name == "MT-Reason");
        Assert.Equal(["Captured", "ImportedFromErrorQueue"], letter.Audit.Select(entry => entry.Action));
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(ErrorQueue));

        // A second pass finds nothing; the same message left there again (a crash between commit and ack) lands on the same dead letter.
        await fixture.Get<ErrorQueueSweeper>().SweepAsync(CancellationToken.None);
        Assert.Equal(letter.Letter.Id, (await SingleDeadLetterAsync(messageId)).Letter.Id);
        await PutOnErrorQueueAsync(body, messageId);
        await fixture.Get<ErrorQueueSweeper>().SweepAsync(CancellationToken.None);
        var again = await SingleDeadLetterAsync(messageId);
        Assert.Equal((letter.Letter.Id, 2), (again.Letter.Id, again.Letter.Summary.FailureCount));
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(ErrorQueue));

        using var admin = fixture.Admin();
        var replay = await admin.PostAsync(new Uri($"admin/dead-letters/{letter.Letter.Id}/replay", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.Equal(messageId, sent.MessageId);
        Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
    }

    [Fact]
    public async Task A_delivery_both_captured_and_left_on_the_error_queue_is_one_dead_letter_failed_twice()
    {
        var (key, messageId, account) = (Guid.NewGuid().ToString("D"), NewId.NextGuid().ToString("D"), Interlocked.Increment(ref _nextAccount));
        var body = JsonSerializer.SerializeToUtf8Bytes(Document(key, revision: 1, accountId: account), Json);
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishRawAsync(SendQueue, body, messageId);
            var captured = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);

            // The same delivery as MassTransit would have moved it had the capture's answer been lost after its commit.
            await PutOnErrorQueueAsync(body, messageId);
            await fixture.Get<ErrorQueueSweeper>().SweepAsync(CancellationToken.None);

            var letter = await SingleDeadLetterAsync(messageId);
            Assert.Equal((captured.DeadLetterId, 2), (letter.Letter.Id, letter.Letter.Summary.FailureCount));
            Assert.Equal(["Captured", "FailedAgain", "ImportedFromErrorQueue"], letter.Audit.Select(entry => entry.Action));
            Assert.Equal(0u, await fixture.Erp.MessageCountAsync(ErrorQueue));
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task While_the_database_is_down_the_message_stays_on_the_error_queue_until_a_later_sweep()
    {
        var messageId = NewId.NextGuid().ToString("D");
        await RenameDeadLettersAsync("dead_letters", "dead_letters_hidden");
        try
        {
            await PutOnErrorQueueAsync(Encoding.UTF8.GetBytes("{ \"key\": \"held\" "), messageId);

            Assert.Equal(0, await fixture.Get<ErrorQueueSweeper>().SweepAsync(CancellationToken.None));
            Assert.Equal(1u, await EventuallyAsync(() => fixture.Erp.MessageCountAsync(ErrorQueue), count => count == 1));
        }
        finally
        {
            await RenameDeadLettersAsync("dead_letters_hidden", "dead_letters");
        }

        await fixture.Get<ErrorQueueSweeper>().SweepAsync(CancellationToken.None);

        var letter = await SingleDeadLetterAsync(messageId);
        Assert.Equal("{ \"key\": \"held\" ", letter.Letter.Body.Text);
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(ErrorQueue));
    }

    [Fact]
    public async Task A_sweep_over_an_error_queue_holding_a_message_with_NUL_then_a_good_one_imports_both()
    {
        var (badKey, goodKey) = ("doc\0" + Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("D"));
        var (badId, goodId) = ("bad\0" + NewId.NextGuid().ToString("N"), NewId.NextGuid().ToString("D"));
        var badBody = JsonSerializer.SerializeToUtf8Bytes(Document(badKey, revision: 1), Json);
        await PutOnErrorQueueAsync(badBody, badId);
        await PutOnErrorQueueAsync(JsonSerializer.SerializeToUtf8Bytes(Document(goodKey, revision: 1), Json), goodId);

        await fixture.Get<ErrorQueueSweeper>().SweepAsync(CancellationToken.None);

        var good = await SingleDeadLetterAsync(goodId);
        Assert.Equal(goodKey, good.Letter.Summary.ErpKey);
        var bad = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == badId, TimeSpan.FromSeconds(30));
        Assert.Equal(badKey, bad.Key);
        var stored = (await fixture.Get<IDeadLetterStore>().GetAsync(bad.DeadLetterId, CancellationToken.None))!.Letter;
        Assert.Equal(badBody, stored.Body.ToBytes());
        Assert.Equal(badId, stored.Headers["amqp:message_id"]);
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(ErrorQueue));
    }

    [Fact]
    public async Task A_message_the_store_refuses_is_parked_with_its_reason_and_the_sweep_imports_the_messages_behind_it()
    {
        var (refusedId, goodId) = (NewId.NextGuid().ToString("D"), NewId.NextGuid().ToString("D"));
        var refusedBody = Encoding.UTF8.GetBytes("{ \"refused\": true }");
        var parkedCount = 0L;
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, fixture.Get<DeadLetterMetrics>().Meter) && instrument.Name == "bridge.dead_letters.error_queue_parked")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref parkedCount, value));
        meters.Start();
        // The database takes every dead letter but this one, as it would refuse a value it cannot hold.
        var trigger = "refuse_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync($$"""
            CREATE FUNCTION bridge.{{trigger}}() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN RAISE EXCEPTION 'the store refuses this one'; END $body$;
            CREATE TRIGGER {{trigger}} BEFORE INSERT ON bridge.dead_letters FOR EACH ROW
                WHEN (NEW.message_id = '{{refusedId}}') EXECUTE FUNCTION bridge.{{trigger}}();
            """);
        try
        {
            await PutOnErrorQueueAsync(refusedBody, refusedId);
            await PutOnErrorQueueAsync(Encoding.UTF8.GetBytes("{ \"behind\": true }"), goodId);

            await fixture.Get<ErrorQueueSweeper>().SweepAsync(CancellationToken.None);
        }
        finally
        {
            await ExecuteAsync($"DROP TRIGGER {trigger} ON bridge.dead_letters; DROP FUNCTION bridge.{trigger}();");
        }

        Assert.Equal("{ \"behind\": true }", (await SingleDeadLetterAsync(goodId)).Letter.Body.Text);
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(ErrorQueue));
        var parked = await fixture.Erp.GetAsync(SendQueue + "_parked");
        Assert.NotNull(parked);
        Assert.Equal((refusedId, "application/json"), (parked.BasicProperties.MessageId, parked.BasicProperties.ContentType));
        Assert.Equal(refusedBody, parked.Body.ToArray());
        var headers = parked.BasicProperties.Headers!;
        Assert.Contains("the store refuses this one", Encoding.UTF8.GetString((byte[])headers["Bridge-Parked-Reason"]!), StringComparison.Ordinal);
        Assert.Equal(ErrorQueue, Encoding.UTF8.GetString((byte[])headers["Bridge-Parked-From"]!));
        Assert.Equal("System.TimeoutException", Encoding.UTF8.GetString((byte[])headers["MT-Fault-ExceptionType"]!));
        Assert.Equal(1, Interlocked.Read(ref parkedCount));
        Assert.Empty((await fixture.Get<IDeadLetterStore>().QueryAsync(new DeadLetterFilter(Queue: SendQueue, Text: refusedId), 1, 10, CancellationToken.None)).Items);
    }

    /// <summary>Leaves a message on the error queue as MassTransit's fallback does: the original body and properties plus its fault headers.</summary>
    private async Task PutOnErrorQueueAsync(byte[] body, string messageId)
    {
        var connection = await new ConnectionFactory { Uri = TestEnvironment.RabbitMqUri, ClientProvidedName = "bridge-tests-error-queue" }.CreateConnectionAsync();
        await using (connection)
        {
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            // Declared as MassTransit declares it (durable, the input queue's arguments: none), in case no failure created it yet.
            await channel.QueueDeclareAsync(ErrorQueue, durable: true, exclusive: false, autoDelete: false);
            var properties = new BasicProperties
            {
                MessageId = messageId,
                ContentType = "application/json",
                Persistent = true,
                Headers = new Dictionary<string, object?>
                {
                    ["x-erp"] = "erp-1c",
                    ["MT-Reason"] = "fault",
                    ["MT-Fault-ExceptionType"] = "System.TimeoutException",
                    ["MT-Fault-Message"] = "The database did not answer in time",
                    ["MT-Fault-StackTrace"] = "   at Bridge.Somewhere()",
                    ["MT-Fault-Timestamp"] = FaultedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    ["MT-Fault-RetryCount"] = 2,
                },
            };
            await channel.BasicPublishAsync(string.Empty, ErrorQueue, mandatory: true, properties, body);
        }
    }

    private async Task<DeadLetterDetails> SingleDeadLetterAsync(string messageId)
    {
        var store = fixture.Get<IDeadLetterStore>();
        var page = await store.QueryAsync(new DeadLetterFilter(Queue: SendQueue, Text: messageId), 1, 10, CancellationToken.None);
        var summary = Assert.Single(page.Items);
        Assert.Equal(messageId, summary.MessageId);
        return (await store.GetAsync(summary.Id, CancellationToken.None))!;
    }

    private Task RenameDeadLettersAsync(string from, string to) => ExecuteAsync($"ALTER TABLE bridge.{from} RENAME TO {to};");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await fixture.Get<IBridgeDatabase>().OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
