using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// An async task answered 404 is "expired" — ended long ago, so whatever it did is done — only for a reseller the token is
/// confirmed to reach. ActivePlatform may answer 404 for a reseller outside the token's subtree too (undocumented): then the
/// task may still be running, and reading it as ended lets a newer version be written before it, and then under it.
/// </summary>
[Collection(PipelineCollection4.Name)]
public sealed class AsyncTaskScopeTests(PipelineFixture fixture)
{
    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    /// <summary>Sends the version through the fixture's own Bridge (its own token) and waits until it is in ActivePlatform.</summary>
    private async Task SendThroughTheFixturesBridgeAsync(Dictionary<string, object?> document)
    {
        var messageId = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(fixture.Queue(SendClosingDocumentConsumer.Queue), document, messageId);
        Assert.IsType<ClosingDocumentSent>(await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == messageId, TimeSpan.FromSeconds(120)));
    }

    [Fact]
    public async Task An_update_task_answered_404_while_the_token_no_longer_reaches_the_reseller_is_not_read_as_expired()
    {
        // The fixture's sandbox answers documents whose key starts with async- with tasks that end on their third poll.
        var key = "async-" + Guid.NewGuid().ToString("D");
        var account = 9_800_000 + Random.Shared.Next(100_000);
        await SendThroughTheFixturesBridgeAsync(Document(key, revision: 1, accountId: account, total: 10m));

        // A second Bridge with its own token, which it has never confirmed reaches reseller 1 (a new instance, or a token
        // replaced at run time): the document exists, so its update is a PATCH with no lookup answered 404 before it.
        var token = "narrowed-" + Guid.NewGuid().ToString("N");
        await Sandbox.AddTokenAsync(token, 1, CancellationToken.None);
        var prefix = $"bridge-ts1-{Guid.NewGuid():N}"[..22];
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:ApiToken"] = token,
            ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:01",
        });

        // The update is accepted as a task; its polls fail until the token has been narrowed in ActivePlatform, after which
        // they are answered 404 — while the task has not ended.
        await Sandbox.SetFaultAsync(new FaultRule { Method = "GET", PathContains = "/async_tasks/", FailNext = 100_000, ErrorStatus = 503 }, CancellationToken.None);
        var update = NewId.NextGuid().ToString("D");
        SandboxAsyncTask task;
        try
        {
            await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 2, accountId: account, total: 20m), update);
            task = (await EventuallyAsync(
                () => Sandbox.GetAsyncTasksAsync(CancellationToken.None),
                tasks => tasks.Any(t => t.Key == key && t.Operation == "update"))).Single(t => t.Key == key && t.Operation == "update");
            await Sandbox.AddTokenAsync(token, 10, CancellationToken.None);
            await Sandbox.SetOutOfScopeStatusAsync(404, CancellationToken.None);
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
        }

        try
        {
            // Held for an operator either way: the document cannot be read with the narrowed token.
            var kept = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == update, TimeSpan.FromSeconds(120));
            Assert.IsType<ErpMessageDeadLettered>(kept);
        }
        finally
        {
            await Sandbox.AddTokenAsync(token, 1, CancellationToken.None);
            await Sandbox.SetOutOfScopeStatusAsync(403, CancellationToken.None);
        }

        // The token is fixed, and a newer version arrives.
        var newer = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 3, accountId: account, total: 30m), newer);
        var sent = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == newer, TimeSpan.FromSeconds(120));
        Assert.Equal(3, Assert.IsType<ClosingDocumentSent>(sent).Revision);

        // ActivePlatform ends revision 2's task in its own time (a no-op if Bridge already saw it to its end). Revision 3,
        // reported sent, must still be what it holds.
        await Sandbox.ExpireAsyncTaskAsync(task.Id, complete: true, CancellationToken.None);
        var document = Assert.Single(await Sandbox.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        Assert.True(document.Total == "30.0", $"ActivePlatform holds total {document.Total}: revision 2, read as an expired task, landed over revision 3, reported sent");
    }
}
