using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Storage;
using Bridge.Tests.Idempotency;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>A message an older Bridge recorded (unversioned fingerprint) is still the same message to this one.</summary>
[Collection(PipelineCollection3.Name)]
public sealed class FingerprintUpgradeTests(PipelineFixture fixture)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_message_recorded_before_the_upgrade_is_redelivered_after_it_and_applied_not_rejected_as_a_conflict()
    {
        var (key, messageId) = (Guid.NewGuid().ToString("D"), NewId.NextGuid().ToString("D"));
        var body = Document(key, revision: 1);
        var message = JsonSerializer.Deserialize<SendClosingDocument>(JsonSerializer.Serialize(body, Web), Web)!;

        // The older instance began this message and stopped before finishing it; the broker redelivers it to this one.
        var begun = await fixture.Bridge.Get<IIdempotencyStore>()
            .BeginAsync(messageId, nameof(SendClosingDocument), UnversionedFingerprint.Of(message), key, CancellationToken.None);
        Assert.True(begun.IsNew);
        await fixture.Erp.PublishJsonAsync(fixture.Queue(SendClosingDocumentConsumer.Queue), body, messageId);

        var answer = await fixture.Events.WaitForAsync<IResultEvent>(key);
        var sent = Assert.IsType<ClosingDocumentSent>(answer);
        Assert.Equal(messageId, sent.MessageId);
    }
}
