using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Two versions of one document with the same revision, each saying when it was modified: the earlier one arriving late is
/// skipped, not written over the later one (issue 7, leftovers).
/// </summary>
[Collection(PipelineCollection4.Name)]
public sealed class ClosingDocumentTieBreakTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_version_of_the_same_revision_modified_earlier_arriving_late_is_skipped_not_written_over_the_later_one()
    {
        var key = "tb-" + Guid.NewGuid().ToString("D");
        var later = Document(key, revision: 3, total: 30m);
        later["modifiedAt"] = "2026-11-30T10:00:00+03:00";
        var earlier = Document(key, revision: 3, total: 20m);
        earlier["modifiedAt"] = "2026-11-30T09:00:00+03:00";
        var late = NewId.NextGuid().ToString("D");

        await fixture.Erp.PublishJsonAsync(fixture.Queue(SendClosingDocumentConsumer.Queue), later, NewId.NextGuid().ToString("D"));
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key, TimeSpan.FromSeconds(120));
        await fixture.Erp.PublishJsonAsync(fixture.Queue(SendClosingDocumentConsumer.Queue), earlier, late);
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == late, TimeSpan.FromSeconds(120));

        var skipped = Assert.IsType<ClosingDocumentSkipped>(answer);
        Assert.Equal(sent.ExternalInvoiceId, skipped.ExternalInvoiceId);
        Assert.Equal("30.0", Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Total);
    }
}
