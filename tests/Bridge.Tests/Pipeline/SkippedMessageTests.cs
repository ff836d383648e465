using System.Text;
using Bridge.Contracts;
using Bridge.Host.Features.Payments;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A message in MassTransit's envelope whose <c>messageType</c> names a type the queue's consumer does not take is "skipped"
/// by MassTransit: moved to <c>&lt;queue&gt;_skipped</c>, where no operator looks. Bridge keeps it as a dead letter instead,
/// and answers it like any failed message — nothing stays stranded in a broker queue.
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class SkippedMessageTests(PipelineFixture fixture)
{
    [Fact]
    public async Task An_envelope_naming_a_type_the_queue_does_not_take_is_kept_as_a_dead_letter_not_left_in_a_skipped_queue()
    {
        var messageId = NewId.NextGuid().ToString("D");
        var queue = fixture.Queue(CompletePaymentConsumer.Queue);
        var envelope = System.Text.Json.JsonSerializer.Serialize(new
        {
            messageId,
            messageType = new[] { "urn:message:Bridge.Contracts:RegisterPayment" },
            message = new { accountId = 505, total = 10.5m, comment = "top-up sent to the wrong queue" },
        });

        await fixture.Erp.PublishRawAsync(queue, Encoding.UTF8.GetBytes(envelope), messageId, "application/vnd.masstransit+json");
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(60));

        var kept = Assert.IsType<ErpMessageDeadLettered>(answer);
        Assert.Contains("RegisterPayment", kept.Reason, StringComparison.Ordinal);
        Assert.Equal(queue, kept.Queue);
        Assert.Null(await fixture.Erp.GetAsync(queue + "_skipped"));
    }
}
