using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public sealed class RestartTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_bridge_stopped_after_the_write_and_before_completion_resumes_polling_on_restart_without_a_second_write()
    {
        var prefix = $"bridge-restart-{Guid.NewGuid():N}"[..26];
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        var key = "restart-" + Guid.NewGuid().ToString("D");
        var messageId = NewId.NextGuid().ToString("D");

        // The first instance writes, stores the task id, and then waits an hour before its first poll.
        var first = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:AsyncTaskPolling:InitialDelay"] = "01:00:00",
            ["ActivePlatform:AsyncTaskPolling:MaxDelay"] = "01:00:00",
            ["ActivePlatform:AsyncTaskPolling:Deadline"] = "02:00:00",
        });
        await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 1), messageId);
        var records = first.Get<IIdempotencyStore>();

        // Stop once the task ActivePlatform answered with is stored in the idempotency record.
        var task = await EventuallyAsync(
            async () => (await fixture.Sandbox.Control.GetAsyncTasksAsync(CancellationToken.None)).SingleOrDefault(t => t.Key == key),
            t => t is not null);
        await EventuallyAsync(
            () => records.FindAsync(messageId, CancellationToken.None),
            r => r?.PendingAsyncTaskId?.Contains(task!.Id, StringComparison.Ordinal) == true);
        await first.DisposeAsync();

        // Nothing is lost by the stop: the message is back on its queue, not in the error queue.
        var errorQueue = await fixture.Erp.GetAsync(queue + "_error");
        Assert.True(errorQueue is null, "the stop dead-lettered the message: " + (errorQueue is null ? "" : ErpPublisher.Utf8(errorQueue.Body)));
        Assert.Equal(1u, await fixture.Erp.MessageCountAsync(queue));

        var tasks = await fixture.Sandbox.Control.GetAsyncTasksAsync(CancellationToken.None);
        Assert.NotEqual("completed", Assert.Single(tasks, t => t.Key == key).Status);

        await using var second = await fixture.StartBridgeAsync(prefix);
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);

        Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", "external_invoices", key, CancellationToken.None));
        Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
    }

    [Fact]
    public async Task A_create_whose_async_answer_was_lost_waits_out_the_polling_deadline_before_sending_again()
    {
        var prefix = $"bridge-lost-{Guid.NewGuid():N}"[..23];
        var key = "async-" + Guid.NewGuid().ToString("D");
        var account = 9_900_000 + Random.Shared.Next(100_000);
        var deadline = TimeSpan.FromSeconds(2);
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
            {
                ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:02",
            });
            await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));

            await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);

            // The lost answer carried an async task that nobody can poll; the second create is sent only once the first
            // could no longer be completing.
            var posts = await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
            Assert.Equal([502, 202], posts.Select(c => c.Status));
            Assert.True(posts[1].Timestamp - posts[0].Timestamp >= deadline, $"sent again after {posts[1].Timestamp - posts[0].Timestamp}");
            Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
