using Bridge.ActivePlatform;
using Bridge.Host.Effects;

namespace Bridge.Host.Messaging;

/// <summary>
/// How long a message keeps being retried while its document is busy or an earlier send's outcome is still pending —
/// derived from the settings that make it wait, so the budget always covers the waits it exists for (issue 7, defect 12).
/// </summary>
public static class RetryBudgets
{
    public static readonly TimeSpan BusyInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Twice the claim lease (a killed holder's claim runs out), plus the async polling deadline (a create whose answer
    /// was lost is waited for that long) and the in-flight window (a lost answer is not read as "nothing happened" sooner).
    /// </summary>
    public static TimeSpan PendingBudget(TimeSpan claimLease, ActivePlatformOptions activePlatform)
    {
        ArgumentNullException.ThrowIfNull(activePlatform);
        return (2 * claimLease) + activePlatform.AsyncTaskPolling.Deadline + EffectTiming.InFlightWindow(activePlatform);
    }

    public static int BusyRetries(TimeSpan claimLease, ActivePlatformOptions activePlatform)
        => (int)Math.Ceiling(PendingBudget(claimLease, activePlatform) / BusyInterval);
}
