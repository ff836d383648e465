using Bridge.ActivePlatform.Models;
using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform;

/// <summary>
/// Polls <c>GET async_tasks/{id}</c> until the task is <c>completed</c> (returned) or <c>failed</c>
/// (<see cref="AsyncTaskFailedException"/>, permanent), waiting with capped exponential backoff and jitter between polls.
/// At the deadline it throws <see cref="AsyncTaskDeadlineExceededException"/> (transient): the caller keeps the stored
/// task id and resumes polling on the message's next delivery. A transient failure of one poll does not end the run.
/// </summary>
public sealed class ActivePlatformAsyncTaskPoller(
    IActivePlatformClient client,
    IOptions<ActivePlatformOptions> options,
    TimeProvider timeProvider,
    ActivePlatformMetrics? metrics = null)
{
    public Task<AsyncTask> WaitForCompletionAsync(long resellerId, string asyncTaskId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(asyncTaskId);
        return PollAsync(
            asyncTaskId,
            ct => CountedFetchAsync(resellerId, asyncTaskId, ct),
            options.Value.AsyncTaskPolling,
            timeProvider,
            Random.Shared,
            cancellationToken);
    }

    private async Task<AsyncTask> CountedFetchAsync(long resellerId, string asyncTaskId, CancellationToken cancellationToken)
    {
        try
        {
            var task = await client.GetAsyncTaskAsync(resellerId, asyncTaskId, cancellationToken).ConfigureAwait(false);
            metrics?.Polled(task.State switch
            {
                AsyncTaskState.Completed => "completed",
                AsyncTaskState.Failed => "failed",
                _ => "pending",
            });
            return task;
        }
        catch (ActivePlatformException)
        {
            metrics?.Polled("error");
            throw;
        }
    }

    /// <summary>The polling loop over any fetch of the task, with time and randomness supplied.</summary>
    public static async Task<AsyncTask> PollAsync(
        string asyncTaskId,
        Func<CancellationToken, Task<AsyncTask>> fetch,
        AsyncTaskPollingOptions polling,
        TimeProvider timeProvider,
        Random random,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fetch);
        ArgumentNullException.ThrowIfNull(polling);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(random);

        var deadline = timeProvider.GetUtcNow() + polling.Deadline;
        string? lastStatus = null;
        ActivePlatformException? lastError = null;
        var polls = 0;

        for (var attempt = 0; ; attempt++)
        {
            TimeSpan? serverAskedToWait = null;
            try
            {
                var task = await fetch(cancellationToken).ConfigureAwait(false);
                polls++;
                lastStatus = task.Attributes.Status;
                lastError = null;
                switch (task.State)
                {
                    case AsyncTaskState.Completed:
                        return task;
                    case AsyncTaskState.Failed:
                        throw new AsyncTaskFailedException(asyncTaskId, task.Attributes.FailureMessage, new ActivePlatformFailureDetails());
                }
            }
            catch (ActivePlatformException ex) when (ex.IsTransient)
            {
                polls++;
                lastError = ex;
                serverAskedToWait = ex.RetryAfter;
            }

            var remaining = deadline - timeProvider.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                throw new AsyncTaskDeadlineExceededException(
                    asyncTaskId, lastStatus, polling.Deadline, polls, new ActivePlatformFailureDetails(), lastError);
            }

            var delay = AsyncTaskBackoff.Delay(attempt, polling, random.NextDouble());
            if (serverAskedToWait > delay)
            {
                delay = serverAskedToWait.Value;
            }

            // The last wait is cut to the deadline so that one final poll happens right at it.
            await Task.Delay(delay < remaining ? delay : remaining, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>The wait before poll <c>attempt + 2</c>: <c>min(MaxDelay, InitialDelay · Factor^attempt · jitter)</c>.</summary>
public static class AsyncTaskBackoff
{
    /// <param name="attempt">0 for the wait after the first poll.</param>
    /// <param name="sample">A uniform random number in [0, 1); 0.5 means no jitter.</param>
    public static TimeSpan Delay(int attempt, AsyncTaskPollingOptions polling, double sample)
    {
        ArgumentNullException.ThrowIfNull(polling);
        ArgumentOutOfRangeException.ThrowIfNegative(attempt);
        var maxTicks = (double)polling.MaxDelay.Ticks;
        var exponential = Math.Min(maxTicks, polling.InitialDelay.Ticks * Math.Pow(polling.BackoffFactor, attempt));
        var jitter = 1 + (polling.JitterRatio * ((2 * Math.Clamp(sample, 0, 1)) - 1));
        var ticks = Math.Min(maxTicks, exponential * jitter);
        return TimeSpan.FromTicks((long)Math.Max(0, ticks));
    }
}
