using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Tests.Infrastructure;
using MassTransit;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary><c>Bridge:Messaging:QueueType=Quorum</c> against the real (single-node) RabbitMQ.</summary>
[Collection(PipelineCollection.Name)]
public sealed class QuorumQueueTests(PipelineFixture fixture)
{
    [Fact]
    public async Task Quorum_input_queues_are_declared_as_quorum_queues_and_carry_messages_through_the_pipeline()
    {
        var prefix = $"bridge-quorum-{Guid.NewGuid():N}"[..25];
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        var key = Guid.NewGuid().ToString("D");
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?> { ["Bridge:Messaging:QueueType"] = "Quorum" });

        await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 1), NewId.NextGuid().ToString("D"));
        Assert.Equal(ClosingDocumentWriteOutcome.Created, (await fixture.Events.WaitForAsync<ClosingDocumentSent>(key)).Outcome);

        // The broker refuses to see the queue as a classic one: it is a quorum queue.
        await using var connection = await new ConnectionFactory { Uri = TestEnvironment.RabbitMqUri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var refused = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclareAsync(
            queue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?> { ["x-queue-type"] = "classic" }));
        Assert.Equal((ushort)406, refused.ShutdownReason?.ReplyCode);
        var reply = refused.ShutdownReason?.ReplyText ?? "";
        Assert.True(reply.Contains("quorum", StringComparison.Ordinal), reply);
    }

    [Fact]
    public async Task A_message_returned_past_the_delivery_limit_is_dead_lettered_by_the_broker_into_the_dead_letter_store()
    {
        var prefix = $"bridge-qlimit-{Guid.NewGuid():N}"[..25];
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        var key = Guid.NewGuid().ToString("D");
        var settings = new Dictionary<string, string?> { ["Bridge:Messaging:QueueType"] = "Quorum", ["Bridge:Messaging:DeliveryLimit"] = "2" };

        // Declare the topology, then stop consuming.
        await (await fixture.StartBridgeAsync(prefix, settings)).DisposeAsync();
        await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 1), NewId.NextGuid().ToString("D"));

        // A consumer that keeps handing the message back (as a crashing instance would) until the broker takes it away.
        await using var connection = await new ConnectionFactory { Uri = TestEnvironment.RabbitMqUri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var returns = 0;
        while (await channel.BasicGetAsync(queue, autoAck: false) is { } delivery)
        {
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true);
            Assert.True(++returns <= 10, "the delivery limit was not applied");
        }

        Assert.Equal(3, returns);
        Assert.Equal(1u, await fixture.Erp.MessageCountAsync(queue + "_error"));

        // Bridge's error-queue sweep moves it into the dead-letter store: nothing is lost past the limit.
        await using var bridge = await fixture.StartBridgeAsync(prefix, settings);
        var deadLettered = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);
        Assert.Equal(queue, deadLettered.Queue);
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(queue + "_error"));
    }
}
