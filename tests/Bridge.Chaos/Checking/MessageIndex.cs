using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;

namespace Bridge.Chaos.Checking;

/// <summary>
/// How the messages sharing one idempotency key ended: normally one message with one result; for a conflict (several
/// payloads under one key) one winner's result plus an <c>IdempotencyConflict</c> rejection per other publication. The
/// winner's result may itself be an <c>IdempotencyConflict</c> about its natural key (a top-up key another message id
/// already applied with other figures): only the "idempotency key already used" rejections count as the others'.
/// <see cref="Results"/> are the answers (for a group, the winner's); <see cref="Conflicts"/> every conflict rejection.
/// </summary>
public sealed record KeyOutcome(
    string Key,
    IReadOnlyList<PlannedMessage> Members,
    IReadOnlyList<ObservedEvent> Results,
    IReadOnlyList<ObservedEvent> Conflicts,
    IReadOnlyList<DeadLetterSummary> PendingDeadLetters,
    IReadOnlyList<DeadLetterSummary> DeadLetters)
{
    /// <summary>The one result, when there is exactly one and no pending dead letter.</summary>
    public IResultEvent? Result => Results.Count == 1 && PendingDeadLetters.Count == 0 ? Results[0].Event : null;

    /// <summary>Ended as a dead letter (no result).</summary>
    public bool DeadLettered => Results.Count == 0 && PendingDeadLetters.Count >= 1;

    /// <summary>Any number of outcomes other than exactly one.</summary>
    public bool Ambiguous => Results.Count + PendingDeadLetters.Count != 1;

    public bool IsConflictGroup => Members.Count > 1;
}

/// <summary>The run's observations indexed by idempotency key and by subject, for the checks and the histories.</summary>
public sealed class MessageIndex
{
    private readonly Dictionary<string, List<ObservedEvent>> _events;
    private readonly Dictionary<string, List<DeadLetterSummary>> _deadLetters;
    private readonly Dictionary<string, List<PlannedMessage>> _byKey;
    private readonly Dictionary<PlannedMessage, List<PublicationRecord>> _publications;

    public MessageIndex(RunRecord run)
    {
        Run = run;
        _events = run.Events.GroupBy(e => e.Event.MessageId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        _byKey = run.Plan.Messages.GroupBy(m => m.IdempotencyKey, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        _publications = run.History.Publications.GroupBy(p => p.Message).ToDictionary(g => g.Key, g => g.OrderBy(p => p.At).ToList());

        // A dead letter belongs to a key by its AMQP message id, or (a key sent in the body) by the notice Bridge published for it.
        var byId = run.DeadLetters.ToDictionary(d => d.Id);
        _deadLetters = new Dictionary<string, List<DeadLetterSummary>>(StringComparer.Ordinal);
        foreach (var letter in run.DeadLetters.Where(d => d.MessageId is not null))
        {
            Add(letter.MessageId!, letter);
        }

        foreach (var notice in run.Events.Select(e => e.Event).OfType<ErpMessageDeadLettered>())
        {
            if (byId.TryGetValue(notice.DeadLetterId, out var letter) && notice.MessageId.Length > 0)
            {
                Add(notice.MessageId, letter);
            }
        }

        void Add(string key, DeadLetterSummary letter)
        {
            if (!_deadLetters.TryGetValue(key, out var list))
            {
                _deadLetters[key] = list = [];
            }

            if (!list.Contains(letter))
            {
                list.Add(letter);
            }
        }
    }

    public RunRecord Run { get; }

    public IEnumerable<string> Keys => _byKey.Keys;

    public IReadOnlyList<PlannedMessage> Members(string key) => _byKey.TryGetValue(key, out var members) ? members : [];

    /// <summary>Result events answering <paramref name="key"/> (dead-letter notices not included).</summary>
    public IReadOnlyList<ObservedEvent> Results(string key) =>
        _events.TryGetValue(key, out var events) ? [.. events.Where(e => !e.IsDeadLetterNotice)] : [];

    public IReadOnlyList<ObservedEvent> AllEvents(string key) => _events.TryGetValue(key, out var events) ? events : [];

    public IReadOnlyList<DeadLetterSummary> DeadLetters(string key) => _deadLetters.TryGetValue(key, out var letters) ? letters : [];

    public IReadOnlyList<PublicationRecord> Publications(PlannedMessage message) => _publications.TryGetValue(message, out var records) ? records : [];

    public KeyOutcome Outcome(string key)
    {
        var results = Results(key);
        // Of a group, the payloads refused because the key is another's; a natural-key conflict is the key holder's own answer.
        var members = Members(key);
        var conflicts = results.Where(e => members.Count > 1 ? EventText.IsKeyConflict(e.Event) : EventText.RejectionOf(e.Event) == RejectionReason.IdempotencyConflict).ToList();
        var letters = DeadLetters(key);

        // Alone under its key, a conflict rejection is the message's answer (another payload of its natural key won).
        var answers = members.Count > 1 ? results.Except(conflicts).ToList() : results;
        return new KeyOutcome(key, members, answers, conflicts, [.. letters.Where(l => l.Status == "Pending")], letters);
    }

    public KeyOutcome Outcome(PlannedMessage message) => Outcome(message.IdempotencyKey);

    /// <summary>The success events (no rejection, no notice) of the given messages, oldest first.</summary>
    public IReadOnlyList<IResultEvent> Successes(IEnumerable<PlannedMessage> messages) =>
        [.. messages.Select(m => m.IdempotencyKey).Distinct(StringComparer.Ordinal)
            .SelectMany(Results)
            .Where(e => EventText.RejectionOf(e.Event) is null)
            .Select(e => e.Event)
            .OrderBy(e => e.OccurredAt)];
}
