using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A refusal (4xx) is proof that nothing happened only when it answers the one attempt of a write. After an attempt whose
/// outcome was unclear (its answer lost), the HTTP layer's repeat may be refused precisely because the first attempt was
/// carried out: the write is settled by reading back, never answered as "refused, nothing happened" (issue 7, leftovers).
/// </summary>
[Collection(PipelineCollection2.Name)]
public sealed class ClosingDocumentUnclearRefusalTests(PipelineFixture fixture)
{
    /// <summary>The HTTP layer repeats PATCH and DELETE; an unclear write is settled within a short in-flight window (15 s).</summary>
    private static readonly Dictionary<string, string?> HttpRetries = new()
    {
        ["ActivePlatform:RetryCount"] = "2",
        ["ActivePlatform:RetryBaseDelay"] = "00:00:00.020",
        ["ActivePlatform:AttemptTimeout"] = "00:00:05",
        ["ActivePlatform:TotalTimeout"] = "00:00:10",
        ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:01",
    };

    private static string Queue(string prefix) => $"{prefix}.{SendClosingDocumentConsumer.Queue}";

    private static string DeleteQueue(string prefix) => $"{prefix}.{DeleteClosingDocumentConsumer.Queue}";

    private static long NewAccount() => 9_700_000 + Random.Shared.Next(100_000);

    private static Dictionary<string, object?> Delete(long account, string key) => new() { ["accountId"] = account, ["key"] = key };

    private Task<IResultEvent> AnswerToAsync(string messageId)
        => fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));

    [Theory]
    [InlineData(404)]
    [InlineData(422)]
    [InlineData(409)]
    public async Task A_delete_whose_first_attempt_was_applied_with_its_answer_lost_and_whose_repeat_was_refused_reports_the_document_it_removed(int repeatRefusedWith)
    {
        var prefix = $"bridge-ur1-{Guid.NewGuid():N}"[..22];
        var key = "ur-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        await using var bridge = await fixture.StartBridgeAsync(prefix, HttpRetries);
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key, TimeSpan.FromSeconds(120));

        // The first DELETE removes the document and its answer is lost; the repeat is refused (the sandbox itself answers
        // 404 for a document that is gone; other refusals are injected).
        var rule = new FaultRule { Method = "DELETE", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 };
        if (repeatRefusedWith != 404)
        {
            rule.FailNext = 1;
            rule.ErrorStatus = repeatRefusedWith;
        }

        await fixture.Sandbox.Control.SetFaultAsync(rule, CancellationToken.None);
        try
        {
            var delete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key), delete);
            var answer = await AnswerToAsync(delete);

            var calls = await fixture.Sandbox.Control.GetCallsAsync("DELETE", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
            Assert.Equal([502, repeatRefusedWith], calls.Select(c => c.Status).Take(2));
            var deleted = Assert.IsType<ClosingDocumentDeleted>(answer);
            Assert.True(deleted.WasPresent, "the delete removed the document and was reported as finding nothing");
            Assert.Equal(sent.ExternalInvoiceId, deleted.ExternalInvoiceId);
            Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_delete_answered_404_because_a_manager_removed_the_document_first_reports_that_it_removed_nothing()
    {
        // The document is found by key, then a manager deletes it by hand before Bridge's DELETE lands: the DELETE's first
        // attempt is answered 429 (which proves it did nothing; a 503 would not — a gateway may give up on a request the
        // platform then carries out) while the manager deletes it, and its repeat is answered 404. No attempt of this delete
        // can have removed it, so the 404 is not this delete's own earlier attempt.
        var prefix = $"bridge-ur3-{Guid.NewGuid():N}"[..22];
        var key = "ur-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        await using var bridge = await fixture.StartBridgeAsync(prefix, HttpRetries);
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key, TimeSpan.FromSeconds(120));

        await fixture.Sandbox.Control.SetFaultAsync(
            new FaultRule
            {
                Method = "DELETE",
                PathContains = $"/accounts/{account}/external_invoices",
                ThrottleNext = 1,
                RetryAfterSeconds = 0,
                ThenDeleteClosingDocumentByHand = long.Parse(sent.ExternalInvoiceId, System.Globalization.CultureInfo.InvariantCulture),
            },
            CancellationToken.None);
        try
        {
            var delete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key), delete);
            var answer = await AnswerToAsync(delete);

            var calls = await fixture.Sandbox.Control.GetCallsAsync("DELETE", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
            Assert.Equal([429, 404], calls.Select(c => c.Status));
            var deleted = Assert.IsType<ClosingDocumentDeleted>(answer);
            Assert.False(deleted.WasPresent, "a document a manager removed was reported as removed by this delete");
            Assert.Null(deleted.ExternalInvoiceId);
            Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_update_whose_first_attempt_was_applied_with_its_answer_lost_and_whose_repeat_was_refused_is_not_reported_as_rejected()
    {
        var prefix = $"bridge-ur2-{Guid.NewGuid():N}"[..22];
        var key = "ur-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        await using var bridge = await fixture.StartBridgeAsync(prefix, HttpRetries);
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account, total: 10m), NewId.NextGuid().ToString("D"));
        var created = await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 1, TimeSpan.FromSeconds(120));

        await fixture.Sandbox.Control.SetFaultAsync(
            new FaultRule { Method = "PATCH", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1, FailNext = 1, ErrorStatus = 422 },
            CancellationToken.None);
        try
        {
            var update = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account, total: 20m), update);
            var answer = await AnswerToAsync(update);

            var calls = await fixture.Sandbox.Control.GetCallsAsync("PATCH", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
            Assert.Equal([502, 422], calls.Select(c => c.Status).Take(2));
            var sent = Assert.IsType<ClosingDocumentSent>(answer);
            Assert.Equal(ClosingDocumentWriteOutcome.Updated, sent.Outcome);
            Assert.Equal(created.ExternalInvoiceId, sent.ExternalInvoiceId);
            Assert.Equal("20.0", Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Total);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
