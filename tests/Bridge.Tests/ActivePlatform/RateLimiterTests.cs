using System.Net;
using Bridge.ActivePlatform;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Bridge.Tests.ActivePlatform;

/// <summary>
/// The rate limit toward ActivePlatform, one instance's side: its share of the installation's rate, the reseller a path
/// names, the pace it keeps (asserted as a lower bound on elapsed time, which a busy machine only lengthens), and a call that
/// cannot get its turn answered 429 without being sent.
/// </summary>
public sealed class RateLimiterTests
{
    private sealed class Share(int instances) : IActivePlatformRateShare
    {
        public int Instances { get; set; } = instances;
    }

    private static readonly Uri Reseller1 = new("http://ap.example/api/v3/resellers/1/accounts");
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(1);

    private static ActivePlatformRateLimiter Limiter(double perSecond, double perReseller, IActivePlatformRateShare share, TimeProvider? time = null)
    {
        var options = new ActivePlatformOptions { RateLimit = new ActivePlatformRateLimitOptions { PermitsPerSecond = perSecond, PerResellerPermitsPerSecond = perReseller } };
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new ActivePlatformRateLimiter(new StaticMonitor(options), share, time ?? TimeProvider.System, meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
    }

    [Theory]
    [InlineData("http://ap.example/api/v3/resellers/42/accounts/7/external_invoices", "42")]
    [InlineData("http://ap.example/api/v3/resellers/1001", "1001")]
    [InlineData("api/v3/resellers/5/currency_rates", "5")]
    [InlineData("http://ap.example/api/v3/async_tasks/9", null)]
    [InlineData("http://ap.example/api/v3/resellers/abc/accounts", null)]
    public void The_reseller_is_read_from_the_path(string uri, string? reseller)
    {
        Assert.Equal(reseller, ActivePlatformRateLimiter.ResellerOf(new Uri(uri, UriKind.RelativeOrAbsolute)));
    }

    [Fact]
    public void Each_instance_takes_its_share_of_the_installations_rate_as_instances_come_and_go()
    {
        var share = new Share(1);
        var limiter = Limiter(12, 0, share);

        Assert.Equal(12, limiter.InstallationShare);
        share.Instances = 3;
        Assert.Equal(4, limiter.InstallationShare);
        share.Instances = 0;
        Assert.Equal(12, limiter.InstallationShare);
        Assert.False(Limiter(0, 0, share).Enabled);
        Assert.True(Limiter(0, 5, share).Enabled);
    }

    [Fact]
    public async Task Callers_at_once_get_their_turns_one_interval_apart_with_no_burst()
    {
        // 20 a second for the installation, two instances: this one's share is 10 a second, a turn every 100 ms.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var limiter = Limiter(20, 0, new Share(2), time);
        var turns = Enumerable.Range(0, 5).Select(_ => limiter.AcquireAsync(Reseller1, Long, CancellationToken.None).AsTask()).ToList();

        Assert.True(await turns[0].WaitAsync(TimeSpan.FromSeconds(10)));
        for (var step = 1; step < turns.Count; step++)
        {
            // Nobody's turn comes before the clock reaches it: time only moves when the test moves it.
            Assert.All(turns.Skip(step), t => Assert.False(t.IsCompleted));
            time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.True(await turns[step].WaitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.All(turns, t => Assert.True(t.Result));
    }

    /// <summary>
    /// Drives waiting calls through <see cref="ActivePlatformRateLimiter.TryRelease"/> on a fake clock: each call asks at its
    /// wake time; a call told to wait asks again that much later (rounded up to whole milliseconds, as the limiter waits) plus
    /// <paramref name="lateBy"/>. Returns when each call went (or null: refused), in milliseconds from the start.
    /// </summary>
    private static List<double?> Drive(ActivePlatformRateLimiter limiter, FakeTimeProvider time, ref double clockMs, IReadOnlyList<double> wakesMs, Func<int, double>? lateBy = null)
    {
        var went = new List<double?>(wakesMs.Select(_ => (double?)null));
        var queue = new PriorityQueue<int, double>();
        for (var k = 0; k < wakesMs.Count; k++)
        {
            queue.Enqueue(k, wakesMs[k]);
        }

        while (queue.TryDequeue(out var call, out var at))
        {
            if (at > clockMs)
            {
                time.Advance(TimeSpan.FromMilliseconds(at - clockMs));
                clockMs = at;
            }

            switch (limiter.TryRelease(null, Long))
            {
                case null:
                    went[call] = clockMs;
                    break;
                case { } again when again >= TimeSpan.Zero:
                    queue.Enqueue(call, clockMs + Math.Ceiling(again.TotalMilliseconds) + (lateBy?.Invoke(call) ?? 0));
                    break;
            }
        }

        return went;
    }

    private static int BusiestSecond(IEnumerable<double?> went)
    {
        var times = went.Where(t => t is not null).Select(t => t!.Value).Order().ToList();
        return times.Max(start => times.Count(t => t >= start && t < start + 1000));
    }

    [Fact]
    public void Waits_that_all_end_late_together_send_one_call_per_turn_not_all_at_once()
    {
        // A turn every 100 ms. Five callers reserve turns 0 … 400; the first goes at 0; then the process stalls for a
        // second and the four others wake at 1 000 together. They go at most one per turn from then on (a burst of one
        // extra at most: a call may go half an interval early). The limiter once let all five go at once here.
        var time = new FakeTimeProvider();
        var limiter = Limiter(10, 0, new Share(1), time);
        Assert.Equal([0, 100, 200, 300, 400], Enumerable.Range(0, 5).Select(_ => limiter.TryReserve(null, Long)!.Value.TotalMilliseconds));
        var clock = 0.0;
        var went = Drive(limiter, time, ref clock, [0, 1000, 1000, 1000, 1000]);

        Assert.All(went, t => Assert.NotNull(t));
        var order = went.Select(t => t!.Value).Order().ToList();
        Assert.Equal(0, order[0]);
        Assert.All(order.Skip(1).Zip(order.Skip(2)), pair => Assert.True(pair.Second - pair.First >= 50, $"{pair.First} then {pair.Second}"));
        Assert.True(order[^1] - order[1] >= 250, string.Join(", ", order));
    }

    [Fact]
    public void Waits_that_end_late_one_after_another_never_send_faster_than_the_share_plus_one()
    {
        // A review's case: 21 turns reserved 0 … 2 000 ms, then a stall until 1 000 and the waits end 50 ms apart (a starved
        // thread pool running one continuation at a time). Judged only by the gap to the last call, all 21 went within a
        // second; judged by the calls that went, at most 10 + 1 do.
        var time = new FakeTimeProvider();
        var limiter = Limiter(10, 0, new Share(1), time);
        for (var k = 0; k < 21; k++)
        {
            limiter.TryReserve(null, Long);
        }

        var clock = 0.0;
        var went = Drive(limiter, time, ref clock, [.. Enumerable.Range(0, 21).Select(k => 1000 + (50.0 * k))], lateBy: k => (k % 3) * 20);

        Assert.All(went, t => Assert.NotNull(t));
        Assert.InRange(BusiestSecond(went), 1, 11);
    }

    [Fact]
    public void A_new_instance_slows_turns_already_reserved_at_the_old_pace()
    {
        // Alone, 10 a second: 30 turns reserved 100 ms apart. A second instance appears after the first call: this one's share
        // is 5 a second from then on, also for the turns it had reserved (they wake on time, and wait more).
        var time = new FakeTimeProvider();
        var share = new Share(1);
        var limiter = Limiter(10, 0, share, time);
        var wakes = Enumerable.Range(0, 30).Select(_ => limiter.TryReserve(null, Long)!.Value.TotalMilliseconds).ToList();
        var clock = 0.0;
        Assert.Equal(0, Drive(limiter, time, ref clock, [wakes[0]])[0]);
        share.Instances = 2;

        var went = Drive(limiter, time, ref clock, wakes.Skip(1).ToList());

        Assert.All(went, t => Assert.NotNull(t));
        Assert.InRange(BusiestSecond(went), 1, 6);
    }

    [Fact]
    public void A_call_whose_moment_to_go_is_past_its_deadline_is_refused()
    {
        // Two calls went at 0 and 50 (the second half an interval early); a third woken at 60 may go only from 150: past a
        // deadline of 100, it is refused (answered 429, never sent).
        var time = new FakeTimeProvider();
        var limiter = Limiter(10, 0, new Share(1), time);
        Assert.Null(limiter.TryRelease(null, Long));
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Null(limiter.TryRelease(null, Long));
        time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(90, limiter.TryRelease(null, Long)!.Value.TotalMilliseconds);
        Assert.True(limiter.TryRelease(null, TimeSpan.FromMilliseconds(100)) < TimeSpan.Zero);
    }

    [Fact]
    public async Task The_pace_follows_the_instances_as_they_change()
    {
        // 10 a second: alone, a turn every 100 ms; once a second instance counts, every 200 ms.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var share = new Share(1);
        var limiter = Limiter(10, 0, share, time);
        Assert.True(await limiter.AcquireAsync(Reseller1, Long, CancellationToken.None)); // at 0; the next at 100
        var second = limiter.AcquireAsync(Reseller1, Long, CancellationToken.None).AsTask(); // at 100; the next at 200

        share.Instances = 2;
        var third = limiter.AcquireAsync(Reseller1, Long, CancellationToken.None).AsTask(); // at 200; the next at 400
        var fourth = limiter.AcquireAsync(Reseller1, Long, CancellationToken.None).AsTask(); // at 400
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(10)));
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(await third.WaitAsync(TimeSpan.FromSeconds(10)));
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(fourth.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(await fourth.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_turn_further_off_than_the_caller_waits_is_refused_and_reserves_nothing()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var limiter = Limiter(1, 0, new Share(1), time);

        Assert.True(await limiter.AcquireAsync(Reseller1, TimeSpan.FromMilliseconds(500), CancellationToken.None));
        Assert.False(await limiter.AcquireAsync(Reseller1, TimeSpan.FromMilliseconds(500), CancellationToken.None));
        time.Advance(TimeSpan.FromMilliseconds(600));
        var next = limiter.AcquireAsync(Reseller1, TimeSpan.FromMilliseconds(500), CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Each_reseller_has_its_own_pace_under_the_per_reseller_rate()
    {
        // One call every five seconds per reseller: a second call to reseller 1 would wait; one to reseller 2 does not.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var limiter = Limiter(0, 0.2, new Share(1), time);

        Assert.True(await limiter.AcquireAsync(Reseller1, TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.True(await limiter.AcquireAsync(new Uri("http://ap.example/api/v3/resellers/2/accounts"), TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.False(await limiter.AcquireAsync(new Uri("http://ap.example/api/v3/resellers/1/x"), TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.True(await limiter.AcquireAsync(new Uri("http://ap.example/api/v3/async_tasks/3"), TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    [Fact]
    public async Task A_call_that_cannot_get_its_turn_in_time_is_answered_429_and_never_sent()
    {
        // One call every five seconds, a wait of at most 200 ms: the second call is refused here, at once.
        var settings = new ActivePlatformOptions { RateLimit = new() { PermitsPerSecond = 0.2, MaxWait = TimeSpan.FromMilliseconds(200) } };
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var limiter = new ActivePlatformRateLimiter(new StaticMonitor(settings), new Share(1), TimeProvider.System, meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var sent = 0;
        using var client = new HttpClient(new ActivePlatformRateLimitHandler(limiter, new StaticMonitor(settings))
        {
            InnerHandler = new Answering(() => Interlocked.Increment(ref sent)),
        });

        using var first = await client.PostAsync(new Uri("http://ap.example/api/v3/resellers/1/accounts/2/external_invoices"), null);
        using var second = await client.PostAsync(new Uri("http://ap.example/api/v3/resellers/1/accounts/2/external_invoices"), null);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.True(second.Headers.Contains(ActivePlatformRateLimitHandler.LocalHeader));
        Assert.NotNull(second.Headers.RetryAfter);
        Assert.Equal(1, sent);
    }

    private sealed class Answering(Action sent) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            sent();
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Created) { RequestMessage = request });
        }
    }

    private sealed class StaticMonitor(ActivePlatformOptions value) : IOptionsMonitor<ActivePlatformOptions>
    {
        public ActivePlatformOptions CurrentValue => value;

        public ActivePlatformOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ActivePlatformOptions, string?> listener) => null;
    }
}
