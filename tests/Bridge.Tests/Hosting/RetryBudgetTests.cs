using Bridge.ActivePlatform;
using Bridge.Host.Messaging;

namespace Bridge.Tests.Hosting;

/// <summary>Issue 7, defect 12: the wait for a pending effect must always outlast what it waits for.</summary>
public sealed class RetryBudgetTests
{
    [Theory]
    [InlineData(12, 300, 30)]
    [InlineData(120, 300, 30)]
    [InlineData(3, 1, 1)]
    [InlineData(12, 3600, 5)]
    public void The_pending_effect_budget_outlasts_the_claim_lease_the_polling_deadline_and_the_in_flight_window(int leaseSeconds, int deadlineSeconds, int attemptTimeoutSeconds)
    {
        var lease = TimeSpan.FromSeconds(leaseSeconds);
        var options = new ActivePlatformOptions { AttemptTimeout = TimeSpan.FromSeconds(attemptTimeoutSeconds) };
        options.AsyncTaskPolling.Deadline = TimeSpan.FromSeconds(deadlineSeconds);

        var retries = RetryBudgets.BusyRetries(lease, options);
        var waited = retries * RetryBudgets.BusyInterval;

        // A killed holder's claim runs out after one lease; a lost create is waited for until the polling deadline from its
        // send; a lost answer is not read as "nothing happened" before twice the attempt timeout.
        Assert.True(waited >= (2 * lease) + options.AsyncTaskPolling.Deadline, $"waits {waited}, deadline {options.AsyncTaskPolling.Deadline}");
        var window = Bridge.Host.Effects.EffectTiming.InFlightWindow(options);
        Assert.True(window >= options.TotalTimeout, $"in-flight window {window} shorter than the HTTP layer's total timeout {options.TotalTimeout}");
        Assert.True(waited >= lease + window, $"waits {waited}, in-flight window {window}");
    }

    [Fact]
    public void With_the_defaults_a_message_waits_past_the_documented_five_minute_polling_deadline()
    {
        // Before: 2 x the 2-minute lease at 0.5 s = 240 s, shorter than the 300 s polling deadline.
        var waited = RetryBudgets.BusyRetries(new Bridge.Host.Idempotency.IdempotencyOptions().DocumentClaimLease, new ActivePlatformOptions()) * RetryBudgets.BusyInterval;

        Assert.True(waited > new ActivePlatformOptions().AsyncTaskPolling.Deadline, $"waits {waited}");
    }
}
