using System.Globalization;
using System.Text.Json;
using Bridge.ActivePlatform;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A message an older Bridge had begun before the effect journal, whose record still carries that code's string marker
/// (<c>CreateSent|ticks</c> for a create whose answer was lost, <c>Created|taskId</c> for one awaited as an async task), is
/// settled from the marker without a second create (issue 7, leftovers).
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class LegacyPendingWriteTests(PipelineFixture fixture)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static long NewAccount() => 9_800_000 + Random.Shared.Next(100_000);

    private static string Queue(string prefix) => $"{prefix}.{SendClosingDocumentConsumer.Queue}";

    /// <summary>What the older instance did: sent the create (answered with an async task it never recorded) and the marker.</summary>
    private async Task<(string MessageId, string TaskId, Dictionary<string, object?> Body)> OldInstanceSentCreateAsync(long account, string key, Func<string, string> marker)
    {
        var messageId = NewId.NextGuid().ToString("D");
        var body = Document(key, revision: 1, accountId: account);
        var message = JsonSerializer.Deserialize<SendClosingDocument>(JsonSerializer.Serialize(body, Web), Web)!;
        var written = await fixture.Bridge.Get<IActivePlatformClient>().CreateClosingDocumentAsync(1, account, ClosingDocumentMapping.ToWrite(message), CancellationToken.None);
        var task = Assert.IsType<string>(written.AsyncTask?.Id);

        var records = fixture.Bridge.Get<IIdempotencyStore>();
        Assert.True((await records.BeginAsync(messageId, nameof(SendClosingDocument), PayloadFingerprint.Of(message), key, CancellationToken.None)).IsNew);
        await records.SetPendingAsyncTaskAsync(messageId, marker(task), CancellationToken.None);
        return (messageId, task, body);
    }

    private static string DeleteQueue(string prefix) => $"{prefix}.{DeleteClosingDocumentConsumer.Queue}";

    private Task<IReadOnlyList<SandboxCall>> PostsAsync(long account)
        => fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None);

    private async Task<int> LookupsByKeyAsync(long account, string key)
        => (await fixture.Sandbox.Control.GetCallsAsync("GET", $"/accounts/{account}/external_invoices", null, CancellationToken.None))
            .Count(c => c.Query.Contains(key, StringComparison.Ordinal));

    [Fact]
    public async Task A_create_an_older_bridge_sent_and_lost_is_waited_for_and_adopted_never_sent_a_second_time()
    {
        var prefix = $"bridge-lg1-{Guid.NewGuid():N}"[..22];
        var account = NewAccount();
        var key = "async-legacy-" + Guid.NewGuid().ToString("D");
        var (messageId, task, body) = await OldInstanceSentCreateAsync(
            account, key, _ => "CreateSent|" + DateTimeOffset.UtcNow.UtcTicks.ToString(CultureInfo.InvariantCulture));

        await using var bridge = await fixture.StartBridgeAsync(prefix);
        await fixture.Erp.PublishJsonAsync(Queue(prefix), body, messageId);

        // The redelivered message has looked for the document (twice: it is waiting for the old create, not sending one).
        await EventuallyAsync(() => LookupsByKeyAsync(account, key), n => n >= 2, TimeSpan.FromSeconds(60));
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None));

        // ActivePlatform finishes the old create's task: the message adopts the document it made.
        await fixture.Sandbox.Control.ExpireAsyncTaskAsync(task, complete: true, CancellationToken.None);
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));

        var sent = Assert.IsType<ClosingDocumentSent>(answer);
        Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        Assert.Equal(Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Id, sent.ExternalInvoiceId);
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None));
    }

    [Fact]
    public async Task A_create_an_older_bridge_awaited_as_an_async_task_that_has_since_expired_is_found_by_key_not_rejected()
    {
        var prefix = $"bridge-lg2-{Guid.NewGuid():N}"[..22];
        var account = NewAccount();
        var key = "async-legacy-" + Guid.NewGuid().ToString("D");
        var (messageId, task, body) = await OldInstanceSentCreateAsync(account, key, task => "Created|" + task);

        // The task ended (the document made) and is forgotten: polling it answers 404.
        await fixture.Sandbox.Control.ExpireAsyncTaskAsync(task, complete: true, CancellationToken.None);
        await using var bridge = await fixture.StartBridgeAsync(prefix);
        await fixture.Erp.PublishJsonAsync(Queue(prefix), body, messageId);
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120));

        var sent = Assert.IsType<ClosingDocumentSent>(answer);
        Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        Assert.Equal(Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Id, sent.ExternalInvoiceId);
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None));
    }

    [Fact]
    public async Task A_newer_revision_under_another_message_id_waits_for_a_create_an_older_bridge_sent_and_never_posts_a_second_one()
    {
        var prefix = $"bridge-lg3-{Guid.NewGuid():N}"[..22];
        var account = NewAccount();
        var key = "async-legacy-" + Guid.NewGuid().ToString("D");
        var (_, task, _) = await OldInstanceSentCreateAsync(
            account, key, _ => "CreateSent|" + DateTimeOffset.UtcNow.UtcTicks.ToString(CultureInfo.InvariantCulture));

        // After the upgrade, the ERP publishes revision 2 of the same document under a new message id; the old message is
        // not redelivered yet. Its create (an async task) is still running at ActivePlatform.
        await using var bridge = await fixture.StartBridgeAsync(prefix);
        var newer = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account), newer);

        async Task<(int Posts, int Lookups)> SeenAsync() => (
            (await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None)).Count,
            await LookupsByKeyAsync(account, key));

        // Either it POSTs a second create, or it keeps looking the document up while the old create can still land.
        var seen = await EventuallyAsync(SeenAsync, s => s.Posts >= 2 || s.Lookups >= 3, TimeSpan.FromSeconds(90));
        Assert.Equal(1, seen.Posts);

        // The old create lands: revision 2 goes over the one document it made.
        await fixture.Sandbox.Control.ExpireAsyncTaskAsync(task, complete: true, CancellationToken.None);
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == newer, TimeSpan.FromSeconds(180));
        var sent = Assert.IsType<ClosingDocumentSent>(answer);
        Assert.Equal(Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Id, sent.ExternalInvoiceId);
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None));
    }

    [Fact]
    public async Task The_older_bridges_own_message_redelivered_after_a_newer_revision_adopted_its_create_is_answered_once_as_skipped_and_creates_nothing()
    {
        var prefix = $"bridge-lg4-{Guid.NewGuid():N}"[..22];
        var account = NewAccount();
        var key = "async-legacy-" + Guid.NewGuid().ToString("D");
        var (oldMessage, task, oldBody) = await OldInstanceSentCreateAsync(
            account, key, _ => "CreateSent|" + DateTimeOffset.UtcNow.UtcTicks.ToString(CultureInfo.InvariantCulture));

        await using var bridge = await fixture.StartBridgeAsync(prefix);
        var newer = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(Queue(prefix), Document(key, revision: 2, accountId: account), newer);

        // Revision 2 adopted the old create into the journal (owned by the old message) and waits for it.
        var createId = ClosingDocumentWrites.CreateId(1, account, key, oldMessage);
        var adopted = await EventuallyAsync(() => bridge.Get<IEffectJournal>().FindAsync(createId, CancellationToken.None), e => e is not null, TimeSpan.FromSeconds(60));
        Assert.Equal((EffectState.Sending, oldMessage), (adopted!.State, adopted.OwnerKey));
        await EventuallyAsync(() => LookupsByKeyAsync(account, key), n => n >= 2, TimeSpan.FromSeconds(60));

        await fixture.Sandbox.Control.ExpireAsyncTaskAsync(task, complete: true, CancellationToken.None);
        var updated = Assert.IsType<ClosingDocumentSent>(await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == newer, TimeSpan.FromSeconds(180)));
        Assert.Equal(ClosingDocumentWriteOutcome.Updated, updated.Outcome);

        // The old message comes back: its create is known (applied, the document revision 2 went over), so it is answered
        // as skipped without a POST, and its record is completed (a further redelivery is a duplicate).
        await fixture.Erp.PublishJsonAsync(Queue(prefix), oldBody, oldMessage);
        var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == oldMessage, TimeSpan.FromSeconds(120));
        var skipped = Assert.IsType<ClosingDocumentSkipped>(answer);
        Assert.Equal(updated.ExternalInvoiceId, skipped.ExternalInvoiceId);
        Assert.Single(await PostsAsync(account));
        var record = await bridge.Get<IIdempotencyStore>().FindAsync(oldMessage, CancellationToken.None);
        Assert.Equal((IdempotencyState.Completed, null), (record!.State, record.PendingAsyncTaskId));
        Assert.Equal(EffectState.Applied, (await bridge.Get<IEffectJournal>().FindAsync(createId, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task A_delete_under_another_message_id_waits_for_a_create_an_older_bridge_sent_and_removes_the_document_it_made()
    {
        var prefix = $"bridge-lg5-{Guid.NewGuid():N}"[..22];
        var account = NewAccount();
        var key = "async-legacy-" + Guid.NewGuid().ToString("D");
        var (oldMessage, task, oldBody) = await OldInstanceSentCreateAsync(
            account, key, _ => "CreateSent|" + DateTimeOffset.UtcNow.UtcTicks.ToString(CultureInfo.InvariantCulture));

        await using var bridge = await fixture.StartBridgeAsync(prefix);
        var delete = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(DeleteQueue(prefix), new Dictionary<string, object?> { ["accountId"] = account, ["key"] = key }, delete);

        // Either it answers "nothing to delete" while the old create can still land, or it keeps looking the document up.
        var lookups = await EventuallyAsync(
            async () => (await LookupsByKeyAsync(account, key), fixture.Events.EventsFor(key).Count),
            s => s.Item1 >= 3 || s.Item2 > 0,
            TimeSpan.FromSeconds(90));
        Assert.Equal(0, lookups.Item2);

        await fixture.Sandbox.Control.ExpireAsyncTaskAsync(task, complete: true, CancellationToken.None);
        var deleted = Assert.IsType<ClosingDocumentDeleted>(await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == delete, TimeSpan.FromSeconds(180)));
        Assert.True(deleted.WasPresent, "the delete reported nothing to delete while the old create was still landing");
        Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);

        // The old message comes back: its create applied and the delete went over it — skipped, nothing created again.
        await fixture.Erp.PublishJsonAsync(Queue(prefix), oldBody, oldMessage);
        Assert.IsType<ClosingDocumentSkipped>(await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == oldMessage, TimeSpan.FromSeconds(120)));
        Assert.Single(await PostsAsync(account));
        Assert.DoesNotContain(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
    }
}
