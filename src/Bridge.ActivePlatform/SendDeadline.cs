using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform;

/// <summary>
/// No attempt of a write (any method but GET and HEAD) leaves later than <see cref="ActivePlatformOptions.TotalTimeout"/>
/// after the send began — by the monotonic clock and by the wall clock, whichever has moved further. Bridge's in-flight
/// window (<c>TotalTimeout + AttemptTimeout</c> from the send the effect journal recorded) counts on it: once the window has
/// passed, a read-back that finds nothing is taken as "the request will never land", and the next write of the same thing
/// goes ahead. The total timeout's own timer does not guarantee it: a process paused between two attempts (a SIGSTOP, a
/// stop-the-world pause, a starved machine) wakes with the retry's delay and the total timeout both overdue, and whichever
/// timer runs first wins — chaos seed 1234: a DELETE repeated twenty seconds after its call began, after another delivery
/// had settled it as not applied and written the document's next version, removed the document, and the delete was then
/// reported as finding nothing.
/// <para>
/// When the send began: a message's handling runs in a scope (<see cref="OpenScope"/>); the effect journal, right before it
/// records a send, stamps the clocks into it (<see cref="SendBegins"/>), and the next write sent in the scope takes that
/// stamp — so its deadline is never later than the recorded send plus the total timeout, even when the process was paused
/// between the record and the call. Otherwise <see cref="CallStartHandler"/>, outside the resilience handler, stamps the
/// call when it begins. The resilience handler's retries send the same request message again, so the stamp, kept in its
/// options, is seen by every attempt;
/// <see cref="SendDeadlineHandler"/>, innermost (after the rate limiter's wait), refuses an attempt past the deadline with
/// <see cref="AttemptNotSentException"/>: not repeated, not an attempt that may have applied, and proof that nothing was
/// sent unless an earlier attempt went unanswered. A GET is never refused: reading late changes nothing, and a read that
/// follows a write (a write answered without its resource is read back by key) must not turn an applied write into
/// "nothing sent". What is left is a pause between that check and the request leaving (the README's frozen-process limit),
/// and a virtual machine whose clocks both stood still while the database's went on.
/// </para>
/// </summary>
public static class SendDeadline
{
    internal static readonly HttpRequestOptionsKey<SendStamp> CallStarted = new("Bridge.ActivePlatform.CallStarted");

    private static readonly AsyncLocal<SendBox?> Ambient = new();

    /// <summary>The clocks now.</summary>
    public static SendStamp Stamp(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return new SendStamp(clock.GetTimestamp(), clock.GetUtcNow());
    }

    /// <summary>
    /// Opens the scope of one piece of work (a message's handling): sends recorded inside it (<see cref="SendBegins"/>) give
    /// their stamp to the next write sent inside it.
    /// </summary>
    public static IDisposable OpenScope()
    {
        var outer = Ambient.Value;
        Ambient.Value = new SendBox();
        return new Restore(outer);
    }

    /// <summary>
    /// Called right before a send is recorded (the effect journal's <c>sent_at</c>, a rate intent's hold): the next write sent
    /// in this scope counts its deadline from now, so never from later than the record. Nothing outside a scope.
    /// </summary>
    public static void SendBegins(TimeProvider? clock = null) => Ambient.Value?.Set(Stamp(clock ?? TimeProvider.System));

    /// <summary>The stamp a recorded send left for this write, taken so the next write does not reuse it.</summary>
    internal static SendStamp? TakeRecorded() => Ambient.Value?.Take();

    internal static bool IsWrite(HttpMethod method) => method != HttpMethod.Get && method != HttpMethod.Head;

    private sealed class SendBox
    {
        private readonly Lock _gate = new();
        private SendStamp? _stamp;

        public void Set(SendStamp stamp)
        {
            lock (_gate)
            {
                _stamp = stamp;
            }
        }

        public SendStamp? Take()
        {
            lock (_gate)
            {
                var stamp = _stamp;
                _stamp = null;
                return stamp;
            }
        }
    }

    private sealed class Restore(SendBox? outer) : IDisposable
    {
        public void Dispose() => Ambient.Value = outer;
    }
}

/// <summary>When a send began, by the monotonic clock and by the wall clock.</summary>
public readonly record struct SendStamp(long Timestamp, DateTimeOffset Wall)
{
    /// <summary>The longer of the two clocks' elapsed time: a pause one of them did not see still counts.</summary>
    public TimeSpan Elapsed(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var monotonic = clock.GetElapsedTime(Timestamp);
        var wall = clock.GetUtcNow() - Wall;
        return wall > monotonic ? wall : monotonic;
    }
}

/// <summary>
/// Outermost: stamps when a write began — the caller's recorded send if it left one, else now. A write that began at a
/// recorded send is also cut when the total timeout has passed since that send: the resilience handler's total timeout
/// counts from the call, which a pause after the record made later, and an attempt that passed the deadline's check just in
/// time must not go on being sent (a slow connection, a long upload) past it.
/// </summary>
internal sealed class CallStartHandler(TimeProvider timeProvider, IOptions<ActivePlatformOptions> options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!SendDeadline.IsWrite(request.Method) || request.Options.TryGetValue(SendDeadline.CallStarted, out _))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        if (SendDeadline.TakeRecorded() is not { } recorded)
        {
            request.Options.Set(SendDeadline.CallStarted, SendDeadline.Stamp(timeProvider));
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        request.Options.Set(SendDeadline.CallStarted, recorded);
        // When the deadline has passed already there is nothing to cut: the innermost handler refuses every attempt.
        var left = options.Value.TotalTimeout - recorded.Elapsed(timeProvider);
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (left > TimeSpan.Zero)
        {
            cut.CancelAfter(left);
        }

        return await base.SendAsync(request, cut.Token).ConfigureAwait(false);
    }
}

/// <summary>Innermost: an attempt of a write that would leave after the send's total timeout is not sent.</summary>
internal sealed class SendDeadlineHandler(TimeProvider timeProvider, IOptions<ActivePlatformOptions> options) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var total = options.Value.TotalTimeout;
        if (SendDeadline.IsWrite(request.Method)
            && request.Options.TryGetValue(SendDeadline.CallStarted, out var started)
            && started.Elapsed(timeProvider) is var elapsed
            && elapsed > total)
        {
            throw new AttemptNotSentException(
                $"not sent: {elapsed:g} had passed since the send began, more than the total timeout of {total:g} (the process was paused or starved); sent now it could land after Bridge stopped waiting for it",
                AttemptOutcomes.AnAttemptMayHaveApplied(request));
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>
/// An attempt Bridge did not send because the send's total timeout had passed (<see cref="SendDeadlineHandler"/>).
/// <see cref="AnEarlierAttemptMayHaveApplied"/>: an earlier attempt of the same call went unanswered.
/// </summary>
public sealed class AttemptNotSentException(string message, bool anEarlierAttemptMayHaveApplied = false)
    : HttpRequestException(HttpRequestError.Unknown, message)
{
    public bool AnEarlierAttemptMayHaveApplied { get; } = anEarlierAttemptMayHaveApplied;
}
