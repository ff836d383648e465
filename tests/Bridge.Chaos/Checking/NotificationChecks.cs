using Bridge.Chaos.Model;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Notifications, per run (its accounts): every <c>ClosingDocumentsNotified</c> is backed by a notification ActivePlatform
/// sent, and no more were sent than the answered runs ask for. ActivePlatform cannot deduplicate a notification nor say
/// whether one was sent, so a second one after an answer lost on the way back (or a kill or a database stop between the
/// answer and Bridge's commit) is the documented limit and is allowed; any other extra notification is a violation.
/// </summary>
public sealed class NotificationChecks : IFlowCheck
{
    private static readonly TimeSpan CrashWindow = TimeSpan.FromSeconds(10);

    public IEnumerable<Violation> Check(MessageIndex index)
    {
        foreach (var run in FlowFacts.BySubject(index, Flow.Notifications))
        {
            var messages = run.ToList();
            var keys = messages.Select(m => m.IdempotencyKey).Distinct(StringComparer.Ordinal).ToList();
            var notified = keys.Count(k => index.Outcome(k).Result is ClosingDocumentsNotified);
            var unsettled = keys.Count(k => index.Outcome(k).Result is null);
            var sent = FlowFacts.Effects(index, EffectKinds.NotificationSent, run.Key);
            if (sent.Count < notified)
            {
                yield return new Violation(Invariants.EffectBehindSuccess, run.Key, $"{notified} message(s) reported ClosingDocumentsNotified, ActivePlatform sent {sent.Count} notification(s)", messages);
            }

            var allowed = notified + unsettled + FlowFacts.LostAnswers(index, run.Key) + FlowFacts.CrashesAfter(index, sent, CrashWindow);
            if (sent.Count > allowed)
            {
                yield return new Violation(Invariants.EffectCount, run.Key,
                    $"ActivePlatform sent {sent.Count} notification(s) for {notified} answered run(s) (no lost answer, kill or database stop explains the extra)", messages);
            }
        }
    }
}
