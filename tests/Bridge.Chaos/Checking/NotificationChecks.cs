using Bridge.Chaos.Model;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Notifications, per run (its accounts): every <c>ClosingDocumentsNotified</c> is backed by a notification ActivePlatform
/// sent. ActivePlatform can neither deduplicate a notification nor say whether one was sent, so a second one after a lost
/// or timed-out answer, a kill or a database stop between the answer and Bridge's commit is the documented limit: it is
/// reported as a known limit, not counted as a violation.
/// </summary>
public sealed class NotificationChecks : IFlowCheck
{
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

            var answered = notified + unsettled;
            if (sent.Count > answered)
            {
                yield return new Violation(Invariants.KnownLimit, run.Key,
                    $"ActivePlatform sent {sent.Count} notification(s) for {answered} run(s) (README, known limits: a retry after an unknown outcome notifies again)", messages);
            }
        }
    }
}
