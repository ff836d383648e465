using System.Net;
using Bridge.ActivePlatform;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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

    [Fact]
    public void Turns_whose_waits_all_end_late_together_go_one_interval_apart_not_at_once()
    {
        // A turn every 100 ms. Five callers reserve at 0, 100, …, 400; then the process stalls for a second and every
        // wait ends at 1 000 at once (timers fire late together). Only one call may go then; each of the others takes the
        // next free turn after the last call that went, 100 ms apart. (The limiter once let all five go at once here.)
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var limiter = Limiter(10, 0, new Share(1), time);
        var waits = Enumerable.Range(0, 5).Select(_ => limiter.TryReserve(null, Long)).ToList();
        Assert.Equal([0, 100, 200, 300, 400], waits.Select(w => w!.Value.TotalMilliseconds));
        Assert.Null(limiter.TryRelease(null, Long)); // the first, at 0

        time.Advance(TimeSpan.FromSeconds(1));
        var atOnce = Enumerable.Range(0, 4).Select(_ => limiter.TryRelease(null, Long)).ToList();

        Assert.Null(atOnce[0]);
        Assert.Equal([100, 200, 300], atOnce.Skip(1).Select(w => w!.Value.TotalMilliseconds));
        // A new caller now queues behind them, and the deferred ones go each on its turn.
        Assert.Equal(400, limiter.TryReserve(null, Long)!.Value.TotalMilliseconds);
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Null(limiter.TryRelease(null, Long));
    }

    [Fact]
    public void A_wait_that_ends_a_little_late_still_goes_and_a_deferred_turn_past_the_deadline_is_refused()
    {
        // Timers fire late by a little all the time: 40 ms late on a 100 ms turn is no burst, the call goes. A call that
        // woke right behind another and whose next turn is past its deadline is refused (answered 429, never sent).
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var limiter = Limiter(10, 0, new Share(1), time);
        Assert.Equal(TimeSpan.Zero, limiter.TryReserve(null, Long));
        Assert.Null(limiter.TryRelease(null, Long));
        Assert.Equal(100, limiter.TryReserve(null, Long)!.Value.TotalMilliseconds);
        time.Advance(TimeSpan.FromMilliseconds(140));
        Assert.Null(limiter.TryRelease(null, Long));

        // Two more turns, at 200 and 300; both waits end together at 450. The first goes; the second's next turn (550) is
        // past its deadline (500): refused.
        Assert.Equal(60, limiter.TryReserve(null, Long)!.Value.TotalMilliseconds);
        Assert.Equal(160, limiter.TryReserve(null, Long)!.Value.TotalMilliseconds);
        time.Advance(TimeSpan.FromMilliseconds(310));
        Assert.Null(limiter.TryRelease(null, Long));
        var deferred = limiter.TryRelease(null, TimeSpan.FromMilliseconds(500));
        Assert.True(deferred < TimeSpan.Zero, $"{deferred}");
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
