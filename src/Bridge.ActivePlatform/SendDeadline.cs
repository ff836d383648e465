using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform;

/// <summary>
/// No attempt of a call leaves later than <see cref="ActivePlatformOptions.TotalTimeout"/> after the call began, by the
/// monotonic clock. Bridge's in-flight window (<c>TotalTimeout + AttemptTimeout</c> from the send) counts on it: once the
/// window has passed, a read-back that finds nothing is taken as "the request will never land", and the next write of the
/// same thing goes ahead. The total timeout's own timer does not guarantee it: a process paused between two attempts (a
/// frozen VM, a SIGSTOP, a stop-the-world pause) wakes with the retry's delay and the total timeout both overdue, and
/// whichever timer runs first wins — a repeat could leave twenty seconds after the call began and land after the next
/// version was written (chaos seed 1234: a DELETE repeated after a pause removed a document whose later update Bridge had
/// already reported, and the delete was reported as finding nothing).
/// <para>
/// <see cref="CallStartHandler"/> sits outside the resilience handler and stamps the call once; the resilience handler's
/// request snapshots carry the stamp to every attempt; <see cref="SendDeadlineHandler"/>, innermost (after the rate
/// limiter's wait), refuses an attempt past the deadline with <see cref="AttemptNotSentException"/>, which is neither
/// repeated, nor counted as an attempt that may have applied, nor a failure for the circuit breaker. What is left is a
/// pause between that check and the bytes leaving: the frozen-process limit the README names.
/// </para>
/// </summary>
internal static class SendDeadline
{
    public static readonly HttpRequestOptionsKey<long> CallStarted = new("Bridge.ActivePlatform.CallStarted");
}

/// <summary>Outermost: stamps when the call began (the first time through; a request sent again keeps its stamp).</summary>
internal sealed class CallStartHandler(TimeProvider timeProvider) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Options.TryGetValue(SendDeadline.CallStarted, out _))
        {
            request.Options.Set(SendDeadline.CallStarted, timeProvider.GetTimestamp());
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Innermost: an attempt that would leave after the call's total timeout is not sent.</summary>
internal sealed class SendDeadlineHandler(TimeProvider timeProvider, IOptionsMonitor<ActivePlatformOptions> options) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Options.TryGetValue(SendDeadline.CallStarted, out var started)
            && timeProvider.GetElapsedTime(started) is var elapsed
            && elapsed > options.CurrentValue.TotalTimeout)
        {
            throw new AttemptNotSentException(
                $"not sent: {elapsed:g} had passed since the call began, more than the total timeout of {options.CurrentValue.TotalTimeout:g} (the process was paused or starved); sent now it could land after Bridge stopped waiting for it");
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>An attempt Bridge did not send because the call's total timeout had passed (<see cref="SendDeadlineHandler"/>).</summary>
public sealed class AttemptNotSentException(string message) : HttpRequestException(HttpRequestError.Unknown, message);
