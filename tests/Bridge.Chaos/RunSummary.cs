using System.Globalization;
using Bridge.Chaos.Checking;
using Bridge.Chaos.Recording;
using Bridge.Contracts;

namespace Bridge.Chaos;

/// <summary>
/// How long a killed instance's claimed documents waited before another delivery answered for them; <see cref="Lines"/> has
/// one line per claim (for the report): when its lease ran out, when Bridge answered and when the answer arrived.
/// </summary>
public sealed record ResumeTimes(IReadOnlyList<TimeSpan> Samples, int Unresumed, IReadOnlyList<string> Lines)
{
    public static ResumeTimes Measure(IEnumerable<KillRecord> kills, IReadOnlyList<ObservedEvent> events)
    {
        var samples = new List<TimeSpan>();
        var lines = new List<string>();
        var unresumed = 0;
        foreach (var kill in kills.OrderBy(k => k.At))
        {
            foreach (var claim in kill.Claims)
            {
                // An answer Bridge wrote before the kill (held up in the outbox, e.g. while the broker was down) resumes nothing.
                var next = events.FirstOrDefault(e => e.ReceivedAt > kill.At && e.Event.OccurredAt > kill.At && !e.IsDeadLetterNotice && Concerns(e.Event, claim));
                var lease = claim.ExpiresAt is { } expires ? $"lease left {S(expires - kill.At)}" : "lease unknown";
                var what = $"  {kill.At:HH:mm:ss.fff} {kill.Instance} {claim.Scope}/{EventText.Visible(claim.DocumentKey)} {lease}";
                if (next is null)
                {
                    unresumed++;
                    lines.Add($"{what}: never answered again");
                }
                else
                {
                    samples.Add(next.ReceivedAt - kill.At);
                    lines.Add($"{what}: answered after {S(next.Event.OccurredAt - kill.At)}, received after {S(next.ReceivedAt - kill.At)}: {next.Type} message={EventText.Visible(next.Event.MessageId)}");
                }
            }
        }

        samples.Sort();
        return new ResumeTimes(samples, unresumed, lines);
    }

    /// <summary>
    /// Rate batches are claimed per reseller (a rejection does not say whose batch it was), everything else per the key its
    /// events carry.
    /// </summary>
    private static bool Concerns(IResultEvent e, HeldClaim claim) => claim.Scope == "currency-rates"
        ? e switch
        {
            CurrencyRatesUpdated u => Reseller(u.ResellerId) == claim.DocumentKey,
            CurrencyRatesSkipped s => Reseller(s.ResellerId) == claim.DocumentKey,
            CurrencyRatesRejected => true,
            _ => false,
        }
        : string.Equals(e.Key, claim.DocumentKey, StringComparison.Ordinal);

    private static string Reseller(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string S(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";

    public override string ToString()
    {
        if (Samples.Count == 0)
        {
            return Unresumed == 0 ? "none held" : $"none resumed of {Unresumed}";
        }

        return $"p50 {S(Samples[Samples.Count / 2])} max {S(Samples[^1])} (n={Samples.Count}{(Unresumed > 0 ? $", {Unresumed} never" : "")})";
    }
}

/// <summary>
/// What went through the HTTP door: the messages sent there, how many it accepted (202) and refused for good (4xx, then
/// sent over AMQP), and its requests, retries included (a killed instance, a 503, a 5xx).
/// </summary>
public sealed record DoorTraffic(int Messages, int Accepted, int Refused, int Requests)
{
    public static DoorTraffic Of(IEnumerable<PublicationRecord> publications)
    {
        var door = publications.Where(p => p.Door is not null).ToList();
        return new DoorTraffic(
            door.Select(p => p.Message).Distinct().Count(),
            door.Where(p => p.Confirmed).Select(p => p.Message).Distinct().Count(),
            door.Where(p => p.RefusedByDoor).Select(p => p.Message).Distinct().Count(),
            door.Count);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"messages:{Messages},accepted:{Accepted},refused:{Refused},requests:{Requests}");
}

/// <summary>The one line a run ends with. <see cref="LateLandings"/>: calls the sandbox answered at once and carried out later.</summary>
public sealed record RunSummary(
    int Seed,
    string Storage,
    int Messages,
    int Publications,
    DoorTraffic Door,
    int Effects,
    int LateLandings,
    int Events,
    int DeadLetters,
    int PendingDeadLetters,
    int Kills,
    int Pauses,
    int BrokerRestarts,
    int DatabaseRestarts,
    int UnexpectedExits,
    ResumeTimes Resume,
    IReadOnlyList<Violation> Violations,
    int KnownLimits,
    TimeSpan Took)
{
    public override string ToString()
    {
        var byInvariant = Violations.Count == 0
            ? ""
            : " (" + string.Join(", ", Violations.GroupBy(v => v.Invariant).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}")) + ")";
        return string.Create(CultureInfo.InvariantCulture,
            $"chaos: seed={Seed} storage={Storage} messages={Messages} publications={Publications} door={Door} effects={Effects} late-landings={LateLandings} events={Events} " +
            $"dead-letters={DeadLetters} (pending {PendingDeadLetters}) kills={Kills} pauses={Pauses} restarts=rabbitmq:{BrokerRestarts},postgresql:{DatabaseRestarts} unexpected-exits={UnexpectedExits} " +
            $"resume-after-kill={Resume} known-limits={KnownLimits} violations={Violations.Count}{byInvariant} took={Took.TotalSeconds:0}s");
    }
}
