using System.Threading.Channels;
using Bridge.Host.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bridge.Tests.Hosting;

/// <summary>The one loop behind dead-letter, effect-journal and idempotency-record maintenance, on a clock moved by hand.</summary>
public sealed class PeriodicMaintenanceTests
{
    [Fact]
    public async Task It_purges_at_start_and_then_hourly_refreshes_every_minute_and_a_failed_pass_does_not_end_it()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
        var duty = new RecordingMaintenance(clock) { FailNextTick = false };
        await duty.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(["purge", "tick"], await duty.NextAsync(2));

            clock.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(["tick"], await duty.NextAsync(1));

            // A pass that fails is logged; the next minute runs as usual.
            duty.FailNextTick = true;
            clock.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(["tick-failed"], await duty.NextAsync(1));
            clock.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(["tick"], await duty.NextAsync(1));

            // An hour after the first purge, the next one.
            for (var minute = 4; minute <= 60; minute++)
            {
                clock.Advance(TimeSpan.FromMinutes(1));
                var expected = minute == 60 ? new[] { "purge", "tick" } : ["tick"];
                Assert.Equal(expected, await duty.NextAsync(expected.Length));
            }
        }
        finally
        {
            await duty.StopAsync(CancellationToken.None);
        }
    }

    private sealed class RecordingMaintenance(TimeProvider clock) : PeriodicMaintenance(clock, NullLogger.Instance)
    {
        private readonly Channel<string> passes = Channel.CreateUnbounded<string>();

        public bool FailNextTick { get; set; }

        protected override string What => "Test";

        public async Task<string[]> NextAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var seen = new string[count];
            for (var i = 0; i < count; i++)
            {
                seen[i] = await passes.Reader.ReadAsync(timeout.Token);
            }

            Assert.False(passes.Reader.TryRead(out var extra), $"an unexpected pass: {extra}");
            return seen;
        }

        protected override Task PurgeOnceAsync(CancellationToken cancellationToken)
        {
            passes.Writer.TryWrite("purge");
            return Task.CompletedTask;
        }

        protected override Task EveryTickAsync(CancellationToken cancellationToken)
        {
            if (FailNextTick)
            {
                FailNextTick = false;
                passes.Writer.TryWrite("tick-failed");
                throw new InvalidOperationException("the database is down");
            }

            passes.Writer.TryWrite("tick");
            return Task.CompletedTask;
        }
    }
}
