using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Models;
using Microsoft.Extensions.Options;
using Xunit;

namespace Bridge.Tests.ActivePlatform;

public sealed class AsyncTaskPollerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private static AsyncTaskPollingOptions Polling(double jitter = 0, TimeSpan? deadline = null) => new()
    {
        InitialDelay = TimeSpan.FromSeconds(1),
        BackoffFactor = 2,
        MaxDelay = TimeSpan.FromSeconds(30),
        JitterRatio = jitter,
        Deadline = deadline ?? TimeSpan.FromMinutes(5),
    };

    private static AsyncTask Task(string status, string? failure = null) =>
        new() { Id = "t-1", Type = "async_tasks", Attributes = new AsyncTaskAttributes { Status = status, FailureMessage = failure } };

    private static Func<CancellationToken, Task<AsyncTask>> Sequence(params Func<AsyncTask>[] steps)
    {
        var index = 0;
        return _ => System.Threading.Tasks.Task.FromResult(steps[Math.Min(index++, steps.Length - 1)]());
    }

    [Fact]
    public void Backoff_doubles_from_the_initial_delay_up_to_the_cap()
    {
        var schedule = Enumerable.Range(0, 8).Select(a => AsyncTaskBackoff.Delay(a, Polling(jitter: 0.2), sample: 0.5).TotalSeconds);

        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], schedule);
    }

    [Fact]
    public void Jitter_spreads_each_delay_within_the_ratio_and_never_beyond_the_cap()
    {
        var polling = Polling(jitter: 0.2);

        Assert.Equal(0.8, AsyncTaskBackoff.Delay(0, polling, 0).TotalSeconds, 6);
        Assert.Equal(1.2, AsyncTaskBackoff.Delay(0, polling, 1).TotalSeconds, 6);
        Assert.Equal(12.8, AsyncTaskBackoff.Delay(4, polling, 0).TotalSeconds, 6);
        Assert.Equal(19.2, AsyncTaskBackoff.Delay(4, polling, 1).TotalSeconds, 6);
        Assert.Equal(24, AsyncTaskBackoff.Delay(10, polling, 0).TotalSeconds, 6);
        Assert.Equal(30, AsyncTaskBackoff.Delay(10, polling, 1).TotalSeconds, 6);
        Assert.Equal(30, AsyncTaskBackoff.Delay(10_000, polling, 1).TotalSeconds, 6);
    }

    [Fact]
    public async Task Polls_until_completed_waiting_the_jittered_schedule()
    {
        var time = new AutoAdvancingTimeProvider(Start);
        var polling = Polling(jitter: 0.2);

        var task = await ActivePlatformAsyncTaskPoller.PollAsync(
            "t-1", Sequence(() => Task("pending"), () => Task("running"), () => Task("running"), () => Task("completed")),
            polling, time, new Random(42), CancellationToken.None);

        Assert.Equal(AsyncTaskState.Completed, task.State);
        var samples = new Random(42);
        var expected = Enumerable.Range(0, 3).Select(a => AsyncTaskBackoff.Delay(a, polling, samples.NextDouble())).ToList();
        Assert.Equal(3, time.RequestedDelays.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            // Task.Delay rounds to whole milliseconds.
            Assert.InRange((expected[i] - time.RequestedDelays[i]).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        }
    }

    [Fact]
    public async Task A_failed_task_is_a_permanent_failure_with_its_message()
    {
        var time = new AutoAdvancingTimeProvider(Start);

        var error = await Assert.ThrowsAsync<AsyncTaskFailedException>(() => ActivePlatformAsyncTaskPoller.PollAsync(
            "t-1", Sequence(() => Task("pending"), () => Task("failed", "Plugin rejected the order")),
            Polling(), time, new Random(1), CancellationToken.None));

        Assert.False(error.IsTransient);
        Assert.Equal("t-1", error.TaskId);
        Assert.Equal("Plugin rejected the order", error.FailureMessage);
        Assert.Contains("Plugin rejected the order", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task At_the_deadline_polling_gives_up_with_a_transient_failure_after_a_last_poll_at_the_deadline()
    {
        var time = new AutoAdvancingTimeProvider(Start);
        var polls = 0;

        var error = await Assert.ThrowsAsync<AsyncTaskDeadlineExceededException>(() => ActivePlatformAsyncTaskPoller.PollAsync(
            "t-1", _ => { polls++; return System.Threading.Tasks.Task.FromResult(Task("running")); },
            Polling(jitter: 0, deadline: TimeSpan.FromSeconds(10)), time, new Random(1), CancellationToken.None));

        Assert.True(error.IsTransient);
        Assert.Equal("t-1", error.TaskId);
        Assert.Equal("running", error.LastStatus);
        Assert.Equal([1, 2, 4, 3], time.RequestedDelays.Select(d => d.TotalSeconds));
        Assert.Equal(5, polls);
        Assert.Equal(5, error.Polls);
        Assert.Equal(Start.AddSeconds(10), time.GetUtcNow());
    }

    [Fact]
    public async Task A_transient_poll_failure_does_not_end_polling_and_its_Retry_After_is_honoured()
    {
        var time = new AutoAdvancingTimeProvider(Start);
        var rateLimited = new ActivePlatformTransientException("429", new ActivePlatformFailureDetails { Status = 429, RetryAfter = TimeSpan.FromSeconds(5) });
        var calls = 0;

        var task = await ActivePlatformAsyncTaskPoller.PollAsync(
            "t-1",
            _ => ++calls == 1 ? throw rateLimited : System.Threading.Tasks.Task.FromResult(Task("completed")),
            Polling(jitter: 0), time, new Random(1), CancellationToken.None);

        Assert.Equal(AsyncTaskState.Completed, task.State);
        Assert.Equal([TimeSpan.FromSeconds(5)], time.RequestedDelays);
    }

    [Fact]
    public async Task A_permanent_poll_failure_ends_polling()
    {
        var time = new AutoAdvancingTimeProvider(Start);
        var notFound = new ActivePlatformPermanentException("404", new ActivePlatformFailureDetails { Status = 404 });

        var error = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => ActivePlatformAsyncTaskPoller.PollAsync(
            "t-1", _ => throw notFound, Polling(), time, new Random(1), CancellationToken.None));

        Assert.Same(notFound, error);
        Assert.Empty(time.RequestedDelays);
    }

    [Fact]
    public async Task The_poller_reads_the_task_over_http_until_it_completes()
    {
        await using var server = await ScriptedServer.StartAsync();
        var polls = 0;
        server.Handler = (ctx, _) => ScriptedServer.Json(ctx, 200, ++polls < 3
            ? """{"data":{"id":"9b68427b","type":"async_tasks","attributes":{"status":"running","failure_message":""}}}"""
            : """{"data":{"id":"9b68427b","type":"async_tasks","attributes":{"status":"completed","failure_message":"","results":{"valid":true,"errors":[{}],"application_attributes":{}}}}}""");
        var options = TestClients.Options(server.BaseUrl);
        await using var client = ActivePlatformClientFactory.Create(options);
        var time = new AutoAdvancingTimeProvider(Start);
        var poller = new ActivePlatformAsyncTaskPoller(client.Client, Options.Create(options), time);

        var task = await poller.WaitForCompletionAsync(1, "9b68427b", CancellationToken.None);

        Assert.Equal(AsyncTaskState.Completed, task.State);
        Assert.True(task.Attributes.Results!.Valid);
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("/api/v3/resellers/1/async_tasks/9b68427b", r.Path));
        Assert.Equal(2, time.RequestedDelays.Count);
    }
}
