using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// Notification runs: each its own pair of accounts (so the sandbox's ledger tells them apart), sometimes delivered twice,
/// sometimes republished under a new message id (a new run, so a second notification is what it asks for).
/// </summary>
public sealed class NotificationScenarios : ScenarioFamily
{
    private int _runs;

    public override Flow Flow => Flow.Notifications;

    public override double Weight => 0.6;

    /// <summary>The ledger's subject for a notification: its account ids joined by commas.</summary>
    public static string Subject(IReadOnlyList<long> accountIds) => string.Join(',', accountIds.Select(a => a.ToString(CultureInfo.InvariantCulture)));

    public override IScenario Plan(GenerationContext context)
    {
        var n = ++_runs;
        var key = context.Keys.Key("notify-", n);
        long[] accounts = [90_000 + (n * 2), 90_001 + (n * 2)];
        var duplicate = context.Chance(0.2);
        var republish = context.Chance(0.15);
        var size = 1 + (duplicate ? 1 : 0) + (republish ? 1 : 0);
        var order = context.Permutation(size);
        return new Scenario(size, c => GenerationContext.Arrange([.. Emit(c, key, accounts, duplicate, republish)], order));
    }

    private IEnumerable<Publication> Emit(GenerationContext context, string key, long[] accounts, bool duplicate, bool republish)
    {
        var message = new NotifyClosingDocuments { Key = key, AccountIds = accounts, StartDate = new DateOnly(2026, 10, 1), EndDate = new DateOnly(2026, 10, 31) };
        var subject = Subject(accounts);
        foreach (var publication in GenerationContext.Publish(context.Message(Flow, message, subject, $"notification run {key}"), duplicate))
        {
            yield return publication;
        }

        if (republish)
        {
            yield return new Publication(context.Message(Flow, message, subject, $"notification run {key}, republished under a new id"), 0);
        }
    }
}
