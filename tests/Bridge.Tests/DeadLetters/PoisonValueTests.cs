using System.Text;
using Bridge.Contracts;
using Bridge.Host.DeadLetters.Capture;
using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Features.ClosingDocuments;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// Values PostgreSQL cannot hold in text (U+0000) reaching Bridge in keys, message ids and bodies, on real RabbitMQ and
/// PostgreSQL: a key with a control character is a validation rejection, and a message that fails for good is a dead
/// letter whatever it holds — never a message stranded in <c>&lt;queue&gt;_error</c>.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed class PoisonValueTests(DeadLetterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private string SendQueue => fixture.Queue(SendClosingDocumentConsumer.Queue);

    [Fact]
    public async Task A_closing_document_whose_key_holds_NUL_is_rejected_as_invalid_and_not_left_on_the_error_queue()
    {
        var key = "doc\0" + Guid.NewGuid().ToString("N");
        var messageId = NewId.NextGuid().ToString("D");

        await fixture.Erp.PublishJsonAsync(SendQueue, Document(key, revision: 1), messageId);

        var rejected = await fixture.Events.WaitForAsync<ClosingDocumentRejected>(e => e.MessageId == messageId, Wait);
        Assert.Equal((RejectionReason.InvalidMessage, key), (rejected.Reason, rejected.Key));
        Assert.Contains(rejected.ValidationErrors, error => error.StartsWith("key:", StringComparison.Ordinal) && error.Contains("U+0000", StringComparison.Ordinal));
        Assert.False(await OnErrorQueueAsync(messageId));
    }

    [Fact]
    public async Task A_message_id_holding_NUL_is_rejected_as_an_invalid_idempotency_key()
    {
        var key = Guid.NewGuid().ToString("D");
        var messageId = "erp\0" + Guid.NewGuid().ToString("N");

        await fixture.Erp.PublishJsonAsync(SendQueue, Document(key, revision: 1), messageId);

        var rejected = await fixture.Events.WaitForAsync<ClosingDocumentRejected>(key, Wait);
        Assert.Equal((RejectionReason.InvalidMessage, messageId), (rejected.Reason, rejected.MessageId));
        Assert.Contains(rejected.ValidationErrors, error => error.StartsWith("idempotencyKey:", StringComparison.Ordinal) && error.Contains("U+0000", StringComparison.Ordinal));
        Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        Assert.False(await OnErrorQueueAsync(messageId));
    }

    [Fact]
    public async Task A_poison_message_holding_NUL_is_a_dead_letter_whose_replay_sends_the_same_bytes_and_message_id()
    {
        var messageId = "poison\0" + Guid.NewGuid().ToString("N");
        var body = Encoding.UTF8.GetBytes("{\"key\": \"doc\\u0000nul\", not json \0 at all");

        await fixture.Erp.PublishRawAsync(SendQueue, body, messageId);

        var announced = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId, Wait);
        var store = fixture.Get<IDeadLetterStore>();
        var letter = (await store.GetAsync(announced.DeadLetterId, CancellationToken.None))!.Letter;
        Assert.Equal(body, letter.Body.ToBytes());
        Assert.Equal(messageId, letter.Headers["amqp:message_id"]);
        Assert.Equal("poison\\u0000" + messageId[7..], letter.Summary.MessageId);
        Assert.False(await OnErrorQueueAsync(messageId));

        // Replayed, it fails the same way again: the same bytes under the same message id land on the same dead letter.
        var replayed = await fixture.Get<DeadLetterOperations>().ReplayAsync(announced.DeadLetterId, "tester", null, CancellationToken.None);
        Assert.Equal(DeadLetterActionOutcome.Done, replayed.Outcome);
        var again = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId && e.FailureCount == 2, Wait);
        Assert.Equal(announced.DeadLetterId, again.DeadLetterId);
        Assert.Equal(body, (await store.GetAsync(announced.DeadLetterId, CancellationToken.None))!.Letter.Body.ToBytes());
    }

    /// <summary>Whether the error queue holds the message; every message taken off it to look is put back.</summary>
    private async Task<bool> OnErrorQueueAsync(string messageId)
    {
        var errorQueue = SendQueue + Bridge.Host.Messaging.InputQueues.ErrorQueueSuffix;
        var found = false;
        var seen = new List<(byte[] Body, string? MessageId)>();
        while (await fixture.Erp.GetAsync(errorQueue) is { } message)
        {
            found |= message.BasicProperties.MessageId == messageId;
            seen.Add((message.Body.ToArray(), message.BasicProperties.MessageId));
        }

        foreach (var (body, id) in seen)
        {
            await fixture.Erp.PublishRawAsync(errorQueue, body, id);
        }

        return found;
    }
}
