using System.Collections.Concurrent;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Recording;

/// <summary>
/// A publication attempt: when it ended, and whether the broker confirmed it (an unconfirmed one may still have arrived).
/// <see cref="Door"/> is set for an attempt through Bridge's HTTP door: <see cref="Confirmed"/> is then a 202.
/// </summary>
public sealed record PublicationRecord(PlannedMessage Message, int Copy, DateTimeOffset At, bool Confirmed, string? Error, DoorAttempt? Door = null)
{
    /// <summary>When the attempt began: a door request may have reached Bridge from then on, an AMQP publish the broker.</summary>
    public DateTimeOffset StartedAt => Door?.SentAt ?? At;

    /// <summary>A definitive refusal by the door (4xx): nothing was queued.</summary>
    public bool RefusedByDoor => Door is { Status: >= 400 and < 500 };

    public override string ToString() => Door is { } door
        ? $"door {door} copy {Copy}"
        : $"published {At:HH:mm:ss.fff} copy {Copy}{(Confirmed ? "" : " UNCONFIRMED " + Error)}";
}

/// <summary>
/// One request to the HTTP door: the instance it went to, when, and its answer — an HTTP status (with the receipt's status
/// for a 202 and the problem's title and detail for a refusal), or no status when the request failed on the way (the
/// instance was killed: it may or may not have queued the message).
/// </summary>
public sealed record DoorAttempt(string Instance, DateTimeOffset SentAt, DateTimeOffset AnsweredAt, int? Status, string? Answer)
{
    public override string ToString() =>
        $"{SentAt:HH:mm:ss.fff}..{AnsweredAt:HH:mm:ss.fff} POST to {Instance} → {(Status is { } s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : "no answer")}{(Answer is null ? "" : " " + Answer)}";
}

/// <summary>A result event as a subscriber received it; <see cref="OutboxId"/> is the envelope's message id (Bridge's outbox row).</summary>
public sealed record ObservedEvent(DateTimeOffset ReceivedAt, string OutboxId, IResultEvent Event)
{
    public string Type => Event.GetType().Name;

    public bool IsDeadLetterNotice => Event is ErpMessageDeadLettered;

    public override string ToString() => $"{ReceivedAt:HH:mm:ss.fff} {Type} {EventText.Describe(Event)}";
}

/// <summary>Something the run did to the system: a fault rule set, a kill, a restart, a replay.</summary>
public sealed record Disturbance(DateTimeOffset At, string Kind, string Description)
{
    public override string ToString() => $"{At:HH:mm:ss.fff} {Kind}: {Description}";
}

/// <summary>A SIGKILL, what the killed process held at that moment, and how long those documents waited afterwards.</summary>
public sealed record KillRecord(DateTimeOffset At, string Instance, int ProcessId, IReadOnlyList<HeldClaim> Claims);

/// <summary>A claim on a document held by an instance when it was killed.</summary>
public sealed record HeldClaim(string Scope, string DocumentKey, DateTimeOffset? ExpiresAt);

/// <summary>
/// Everything that happened in a run, as seen from outside Bridge: what was published, every result event received,
/// what was done to the system. Thread-safe. It also answers "has this message a result yet?" for the publisher, which
/// holds back messages that follow another.
/// </summary>
public sealed class History
{
    private readonly ConcurrentQueue<PublicationRecord> _publications = new();
    private readonly ConcurrentDictionary<string, ObservedEvent> _events = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Disturbance> _disturbances = new();
    private readonly ConcurrentQueue<KillRecord> _kills = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _answered = new(StringComparer.Ordinal);
    private long _duplicateEventDeliveries;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public IReadOnlyCollection<PublicationRecord> Publications => _publications.ToArray();

    /// <summary>Distinct events (a redelivery of one outbox row is counted once, in <see cref="DuplicateEventDeliveries"/>).</summary>
    public IReadOnlyList<ObservedEvent> Events => [.. _events.Values.OrderBy(e => e.ReceivedAt)];

    public int EventCount => _events.Count;

    public long DuplicateEventDeliveries => Interlocked.Read(ref _duplicateEventDeliveries);

    public IReadOnlyCollection<Disturbance> Disturbances => _disturbances.ToArray();

    public IReadOnlyCollection<KillRecord> Kills => _kills.ToArray();

    public void Published(PublicationRecord record) => _publications.Enqueue(record);

    public void Disturbed(string kind, string description)
    {
        var disturbance = new Disturbance(DateTimeOffset.UtcNow, kind, description);
        _disturbances.Enqueue(disturbance);
        Console.Error.WriteLine($"chaos: {disturbance}");
    }

    public void Killed(KillRecord kill) => _kills.Enqueue(kill);

    public void Received(ObservedEvent observed)
    {
        if (!_events.TryAdd(observed.OutboxId, observed))
        {
            Interlocked.Increment(ref _duplicateEventDeliveries);
            return;
        }

        if (!observed.IsDeadLetterNotice)
        {
            Answered(observed.Event.MessageId).TrySetResult();
        }
    }

    /// <summary>Completes once a result event (not a dead-letter notice) answers the idempotency key.</summary>
    public Task WhenAnswered(string idempotencyKey) => Answered(idempotencyKey).Task;

    public bool IsAnswered(string idempotencyKey) => Answered(idempotencyKey).Task.IsCompleted;

    private TaskCompletionSource Answered(string key) =>
        _answered.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
