using System.Data.Common;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A review of "every write of a closing document is journaled on the document" (issue 7): interleavings the journal alone
/// did not cover — an HTTP-level retry whose last answer proves nothing about the first, a settle whose document record is
/// lost after the journal was written, a delete answered after the document was created again, a delivery that lost its
/// claim and got it back after another delivery wrote.
/// </summary>
[Collection(PipelineCollection3.Name)]
public sealed class ClosingDocumentJournalReviewTests(PipelineFixture fixture)
{
    private static string Queue(string prefix) => $"{prefix}.{SendClosingDocumentConsumer.Queue}";

    private static string DeleteQueue(string prefix) => $"{prefix}.{DeleteClosingDocumentConsumer.Queue}";

    private static long NewAccount() => 9_600_000 + Random.Shared.Next(100_000);

    private static Dictionary<string, object?> Delete(long account, string key) => new() { ["accountId"] = account, ["key"] = key };

    private Task<IResultEvent> AnswerToAsync(string messageId)
        => fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));

    private async Task<IReadOnlyList<SandboxEffect>> WritesAsync(string key)
        => [.. (await fixture.Sandbox.Control.GetEffectsAsync(null, key, CancellationToken.None)).Where(e => e.Kind.StartsWith("external_invoice.", StringComparison.Ordinal))];

    [Fact]
    public async Task A_delete_whose_first_http_attempt_was_applied_and_whose_http_retries_got_503_still_reports_the_document_it_removed()
    {
        // The HTTP layer repeats a DELETE on any transient answer. The first attempt removes the document and its answer is
        // lost; the repeats are answered 503. The last answer (503) proves only that the last attempt did nothing.
        var prefix = $"bridge-rv1-{Guid.NewGuid():N}"[..22];
        var key = "rv-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:RetryCount"] = "3",
            ["ActivePlatform:RetryBaseDelay"] = "00:00:00.020",
            ["ActivePlatform:AttemptTimeout"] = "00:00:05",
            ["ActivePlatform:TotalTimeout"] = "00:00:10",
        });
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key, TimeSpan.FromSeconds(120));

        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "DELETE", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1, FailNext = 3 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key), NewId.NextGuid().ToString("D"));
            var deleted = await fixture.Events.WaitForAsync<ClosingDocumentDeleted>(key, TimeSpan.FromSeconds(120));

            Assert.Equal([502, 503, 503, 503], (await fixture.Sandbox.Control.GetCallsAsync("DELETE", $"/accounts/{account}/external_invoices", null, CancellationToken.None)).Select(c => c.Status).Take(4));
            Assert.True(deleted.WasPresent, "the delete removed the document and was reported as finding nothing");
            Assert.Equal(sent.ExternalInvoiceId, deleted.ExternalInvoiceId);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_older_version_is_not_written_over_an_update_whose_settling_died_before_it_was_recorded_on_the_document()
    {
        // Revision 3's update is applied and its answer lost. Another delivery settles it (counted as written) and dies — or
        // loses its database — before it records revision 3 on the document. A late revision 2 must still be skipped.
        var prefix = $"bridge-rv2-{Guid.NewGuid():N}"[..22];
        var key = "rv-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        var third = NewId.NextGuid().ToString("D");
        var late = NewId.NextGuid().ToString("D");

        var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        try
        {
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account, total: 10m), NewId.NextGuid().ToString("D"));
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 1, TimeSpan.FromSeconds(120));

            await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "PATCH", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 3, accountId: account, total: 30m), third);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("PATCH", $"/accounts/{account}/external_invoices", null, CancellationToken.None), c => c.Any(x => x.Status == 502));
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);

            // A settler whose every write of the document's state fails: the journal may say what it decided only together
            // with the document.
            var dying = ActivatorUtilities.CreateInstance<ClosingDocumentWrites>(parked.Services, new DocumentStateLostAfterJournal(parked.Get<IDocumentStateStore>()));
            await EventuallyAsync(
                async () =>
                {
                    try
                    {
                        await dying.SettleOpenWriteAsync(1, account, key, CancellationToken.None);
                        return "settled";
                    }
                    catch (EffectPendingException)
                    {
                        return "pending";
                    }
                    catch (DocumentStateLostException)
                    {
                        return "died";
                    }
                },
                outcome => outcome != "pending");

            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account, total: 20m), late);
            var answer = await AnswerToAsync(late);

            var skipped = Assert.IsType<ClosingDocumentSkipped>(answer);
            Assert.Equal("revision 3", skipped.AppliedVersion);
            Assert.DoesNotContain(await WritesAsync(key), w => w.Details.GetValueOrDefault("name")?.EndsWith(" r2", StringComparison.Ordinal) == true);
            Assert.Equal("30.0", Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Total);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await parked.DisposeAsync();
        }

        await using var resumed = await fixture.StartBridgeAsync(prefix);
        Assert.Equal(3, Assert.IsType<ClosingDocumentSent>(await AnswerToAsync(third)).Revision);
    }

    [Fact]
    public async Task A_delete_whose_lost_answer_was_settled_by_a_newer_version_does_not_mark_the_document_that_version_created_again_as_deleted()
    {
        // The delete removes revision 1 and its answer is lost; it waits for its retry. Revision 2 settles the delete (the
        // document is gone) and creates the document again. The delete is then answered: it did remove revision 1, but
        // the document Bridge knows for the key is revision 2's, and it is there.
        var prefix = $"bridge-rv3-{Guid.NewGuid():N}"[..22];
        var key = "rv-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        var deleteId = NewId.NextGuid().ToString("D");

        var parked = await fixture.StartBridgeAsync(prefix, ParkedRetries);
        ClosingDocumentSent first;
        ClosingDocumentSent second;
        try
        {
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account, total: 10m), NewId.NextGuid().ToString("D"));
            first = await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 1, TimeSpan.FromSeconds(120));

            await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "DELETE", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), Delete(account, key), deleteId);
            await EventuallyAsync(() => fixture.Sandbox.Control.GetCallsAsync("DELETE", $"/accounts/{account}/external_invoices", null, CancellationToken.None), c => c.Any(x => x.Status == 502));
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);

            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account, total: 20m), NewId.NextGuid().ToString("D"));
            second = await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 2, TimeSpan.FromSeconds(120));
            Assert.Equal(ClosingDocumentWriteOutcome.Created, second.Outcome);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await parked.DisposeAsync();
        }

        await using var resumed = await fixture.StartBridgeAsync(prefix);
        var deleted = Assert.IsType<ClosingDocumentDeleted>(await AnswerToAsync(deleteId));
        Assert.True(deleted.WasPresent);
        Assert.Equal(first.ExternalInvoiceId, deleted.ExternalInvoiceId);

        // ActivePlatform holds revision 2's document, and so does Bridge's record of the key.
        var held = Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        Assert.Equal(second.ExternalInvoiceId, held.Id);
        var state = await resumed.Get<IDocumentStateStore>().GetAsync(ClosingDocumentScope.Of(1, account), key, CancellationToken.None);
        Assert.False(state!.Deleted, "Bridge records the document revision 2 created as deleted");
        Assert.Equal(second.ExternalInvoiceId, state.ResourceId);
    }

    [Fact]
    public async Task An_older_version_whose_delivery_lost_its_claim_while_slow_is_not_written_after_a_newer_version()
    {
        // Revision 2's delivery claims the document and stalls on its lookup; its claim runs out meanwhile (a paused
        // process, a database cut). Revision 3 takes the claim, writes and releases it. Revision 2's delivery wakes up: it
        // must not write its (older) version, nor record it, on a claim it re-took after someone else held it.
        var prefix = $"bridge-rv4-{Guid.NewGuid():N}"[..22];
        var key = "rv-" + Guid.NewGuid().ToString("D");
        var account = NewAccount();
        var older = NewId.NextGuid().ToString("D");
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            // A lease long enough that no heartbeat falls inside the stall; the stall is shorter than one attempt.
            ["Bridge:Idempotency:DocumentClaimLease"] = "00:01:00",
            ["ActivePlatform:AttemptTimeout"] = "00:00:30",
            ["ActivePlatform:TotalTimeout"] = "00:01:00",
        });
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 1, accountId: account, total: 10m), NewId.NextGuid().ToString("D"));
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 1, TimeSpan.FromSeconds(120));

        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "GET", PathContains = $"/accounts/{account}/external_invoices", HangNext = 1, HangMs = 8000 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account, total: 20m), older);
            var database = bridge.Get<IBridgeDatabase>();
            await EventuallyAsync(() => ClaimedByAsync(database, account, key), owner => owner is not null);

            // The stalled delivery's lease runs out.
            await using (var connection = await database.OpenAsync(CancellationToken.None))
            {
                await connection.ExecuteAsync(
                    "UPDATE bridge.document_states SET claim_expires_at = clock_timestamp() - interval '1 second' WHERE scope = @Scope AND document_key = @Key",
                    new { Scope = ClosingDocumentScope.Of(1, account), Key = key });
            }

            await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 3, accountId: account, total: 30m), NewId.NextGuid().ToString("D"));
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Revision == 3, TimeSpan.FromSeconds(120));

            var answer = await AnswerToAsync(older);
            var skipped = Assert.IsType<ClosingDocumentSkipped>(answer);
            Assert.Equal("revision 3", skipped.AppliedVersion);
            Assert.DoesNotContain(await WritesAsync(key), w => w.Details.GetValueOrDefault("name")?.EndsWith(" r2", StringComparison.Ordinal) == true);
            Assert.Equal("30.0", Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Total);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }

    private static async Task<string?> ClaimedByAsync(IBridgeDatabase database, long account, string key)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        return await connection.QuerySingleOrDefaultAsync<string?>(
            "SELECT claimed_by FROM bridge.document_states WHERE scope = @Scope AND document_key = @Key",
            new { Scope = ClosingDocumentScope.Of(1, account), Key = key });
    }

    private sealed class DocumentStateLostException() : Exception("the database connection was lost (injected)");

    /// <summary>Reads pass through; every write of a document's state fails, as a process killed (or cut from its database) at that moment.</summary>
    private sealed class DocumentStateLostAfterJournal(IDocumentStateStore inner) : DelegatingDocumentStateStore(inner)
    {
        public override Task SetAppliedNowAsync(string scope, string documentKey, string? appliedVersion, string? resourceId, CancellationToken cancellationToken)
            => throw new DocumentStateLostException();

        public override Task SetDeletedNowAsync(string scope, string documentKey, string? appliedVersion, CancellationToken cancellationToken)
            => throw new DocumentStateLostException();

        public override Task SetAppliedAsync(DbTransaction transaction, string scope, string documentKey, string? appliedVersion, string? resourceId, bool deleted, CancellationToken cancellationToken)
            => throw new DocumentStateLostException();
    }
}
