using Bridge.Chaos.Model;
using Bridge.Chaos.Processes;
using Bridge.Chaos.Recording;
using Bridge.Contracts;

namespace Bridge.Chaos;

/// <summary>How a wait for quiet ended, and what was still moving if it did not.</summary>
public sealed record QuiescenceResult(bool Reached, TimeSpan Waited, string State);

/// <summary>
/// Waits until the system has settled: every message answered (a result event, or a pending dead letter), the outbox
/// drained, no live claim, no dead letter Replaying, every input queue empty, no call the sandbox answered still waiting to
/// be carried out (a late landing). A condition polled once a second, bounded by
/// an overall deadline, and given up early only when nothing at all has changed for <c>stall</c> (longer than any quiet
/// period Bridge has on purpose: a dead instance's claim lease, the async-task polling deadline).
/// </summary>
public sealed class Quiescence(ChaosPlan plan, History history, AdminClient admin, StorageProbe storage, ErpPublisher publisher, Bridge.Sandbox.SandboxControlClient sandbox)
{
    private readonly ILookup<string, PlannedMessage> _keys = plan.Messages.ToLookup(m => m.IdempotencyKey, StringComparer.Ordinal);

    public async Task<QuiescenceResult> WaitAsync(TimeSpan deadline, TimeSpan stall, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var lastChange = started;
        string? lastState = null;
        while (true)
        {
            var (quiet, state) = await ProbeAsync(ct);
            if (quiet)
            {
                return new QuiescenceResult(true, DateTimeOffset.UtcNow - started, state);
            }

            var now = DateTimeOffset.UtcNow;
            if (state != lastState)
            {
                lastState = state;
                lastChange = now;
            }

            if (now - started > deadline || now - lastChange > stall)
            {
                return new QuiescenceResult(false, now - started, state);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    private async Task<(bool Quiet, string State)> ProbeAsync(CancellationToken ct)
    {
        try
        {
            var letters = await admin.ListAsync(null, ct);
            var outbox = await storage.PendingOutboxAsync(ct);
            var claims = (await storage.LiveClaimsAsync(ct)).Count;
            var ready = 0L;
            foreach (var queue in ErpQueues.All)
            {
                ready += await publisher.ReadyCountAsync(publisher.QueueName(queue), ct) ?? 0;
            }

            var unanswered = Unanswered(history.Events, letters);
            var replaying = letters.Count(l => l.Status == "Replaying");
            var landing = await sandbox.GetPendingLateLandingsAsync(ct);
            var state = $"unanswered={unanswered.Count} outbox={outbox} claims={claims} queued={ready} replaying={replaying} " +
                $"landing-late={landing} dead-letters={letters.Count}/{letters.Sum(l => l.FailureCount)} events={history.EventCount}";
            var quiet = unanswered.Count == 0 && outbox == 0 && claims == 0 && ready == 0 && replaying == 0 && landing == 0;
            return (quiet, state);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database or the broker is restarting: not quiet.
            return (false, "probe failed: " + ex.GetType().Name);
        }
    }

    /// <summary>Keys without their outcomes yet: no result and no pending dead letter (for a conflict, fewer answers than payloads).</summary>
    private HashSet<string> Unanswered(IReadOnlyList<ObservedEvent> events, IReadOnlyList<DeadLetterSummary> letters)
    {
        var results = events.Where(e => !e.IsDeadLetterNotice).GroupBy(e => e.Event.MessageId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var byId = letters.ToDictionary(l => l.Id);
        var pending = new HashSet<string>(letters.Where(l => l.Status == "Pending" && l.MessageId is not null).Select(l => l.MessageId!), StringComparer.Ordinal);
        foreach (var notice in events.Select(e => e.Event).OfType<ErpMessageDeadLettered>())
        {
            if (byId.TryGetValue(notice.DeadLetterId, out var letter) && letter.Status == "Pending")
            {
                pending.Add(notice.MessageId);
            }
        }

        var unanswered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in _keys)
        {
            var answers = results.GetValueOrDefault(group.Key) + (pending.Contains(group.Key) ? 1 : 0);
            if (answers < group.Count())
            {
                unanswered.Add(group.Key);
            }
        }

        return unanswered;
    }
}
