using System.Text.Json.Serialization;

namespace Bridge.Sandbox;

/// <summary>
/// Everything the sandbox is started with. Bound from the configuration section <c>Sandbox</c> by
/// <c>Program.cs</c>, or built in code for <see cref="SandboxServer.StartAsync"/>.
/// Lists left empty get the defaults described on each property (the configuration binder appends to
/// pre-filled lists, so defaults are applied after binding, in <see cref="WithDefaults"/>).
/// </summary>
public sealed class SandboxSettings
{
    /// <summary>The demo token, scoped to reseller 1 and so to its downstream resellers 2 and 3.</summary>
    public const string DefaultToken = "sandbox-token";

    /// <summary>The reseller tree. Default: 1 with children 2 and 3, and 10, an unrelated reseller no default token reaches.</summary>
    public List<SandboxReseller> Resellers { get; set; } = [];

    /// <summary>API tokens and the reseller each is scoped to. Default: <see cref="DefaultToken"/> → reseller 1.</summary>
    public List<SandboxToken> Tokens { get; set; } = [];

    /// <summary>
    /// Account ids the resellers own on top of their default ranges (see <see cref="SandboxAccountRange.Defaults"/>): reseller 1
    /// owns 1–99 999, reseller r owns r×100 000 + 1 … r×100 000 + 99 999 (the catalog's seeded accounts are among them). A write
    /// naming an account its reseller does not own is refused. Ranges of two resellers must not overlap.
    /// </summary>
    public List<SandboxAccountRange> Accounts { get; set; } = [];

    /// <summary>Whether closing-document writes are answered with async tasks.</summary>
    public AsyncModeSettings Async { get; set; } = new();

    /// <summary>Fault rules active from the start (and restored by <c>POST /_sandbox/reset</c>).</summary>
    public List<FaultRule> Faults { get; set; } = [];

    /// <summary>Seeded subscriptions per reseller; the default 120 spans three pages of the default page size 50.</summary>
    public int SubscriptionsPerReseller { get; set; } = 120;

    /// <summary>Seeded orders per reseller (read-only, <c>GET orders</c>).</summary>
    public int OrdersPerReseller { get; set; } = 12;

    /// <summary>
    /// The id (and so, unless given, the number) of the first payment added after the seeded ones (3001–3005); ids grow from
    /// it. Default: right after the seeded ones. Test runs with several sandboxes publishing to one broker give each its own
    /// start, so payment numbers never repeat across them.
    /// </summary>
    public long? FirstPaymentId { get; set; }

    /// <summary>Seed of the Random behind fault rates, so a run with rates can be repeated.</summary>
    public int RandomSeed { get; set; } = 12345;

    /// <summary>Largest accepted decoded closing-document file; the real limit is per installation.</summary>
    public int MaxFileBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Offset the timestamps are written in (the docs' examples are mostly +0300).</summary>
    public int UtcOffsetMinutes { get; set; } = 180;

    /// <summary>
    /// Whether a request body sent without a <c>Content-Length</c> (chunked) is refused with 411, as some gateways and
    /// proxies in front of installations do. On by default, so a client that streams its bodies fails here first.
    /// </summary>
    public bool RefuseChunkedBodies { get; set; } = true;

    /// <summary>
    /// The answer to a reseller outside the token's subtree: 403 or 404. The docs say neither (REFERENCE.md §0, "403, or a
    /// 404-style not found" inferred), so a client must not read either as "absent". Changed at run time with
    /// <c>PUT /_sandbox/scope</c>; reset restores this.
    /// </summary>
    public int OutOfScopeStatus { get; set; } = StatusCodes.Status403Forbidden;

    /// <summary>
    /// Whether the media types the docs list as required on every v3 method are enforced: a request that does not accept
    /// <c>application/vnd.api+json</c> is answered 406, and a body of another <c>Content-Type</c> 415. On by default.
    /// </summary>
    public bool RequireJsonApiMediaTypes { get; set; } = true;

    /// <summary>Port for <see cref="SandboxServer.StartAsync"/> (0 = any free port). Program.cs uses <c>--urls</c> instead.</summary>
    public int ListenPort { get; set; }

    internal SandboxSettings WithDefaults()
    {
        if (Resellers.Count == 0)
        {
            Resellers = [new() { Id = 1 }, new() { Id = 2, ParentId = 1 }, new() { Id = 3, ParentId = 1 }, new() { Id = 10 }];
        }

        if (Tokens.Count == 0)
        {
            Tokens = [new() { Token = DefaultToken, ResellerId = 1 }];
        }

        return this;
    }
}

/// <summary>A reseller in the tree; <see cref="ParentId"/> null for a root.</summary>
public sealed class SandboxReseller
{
    public int Id { get; set; }

    public int? ParentId { get; set; }
}

/// <summary>Account ids <see cref="From"/>–<see cref="To"/> (inclusive) belong to reseller <see cref="ResellerId"/>.</summary>
public sealed class SandboxAccountRange
{
    public int ResellerId { get; set; }

    public long From { get; set; }

    public long To { get; set; }

    /// <summary>
    /// Every reseller's own range, mirroring the catalog's account ids (REFERENCE.md's examples 167, 523, 685 for reseller 1,
    /// r×100 000 + those for reseller r): reseller 1 owns 1–99 999 (the docs' example accounts 463, 505, 710 among them),
    /// reseller r ≠ 1 owns r×100 000 + 1 … r×100 000 + 99 999.
    /// </summary>
    public static IEnumerable<SandboxAccountRange> Defaults(IEnumerable<int> resellerIds) =>
        resellerIds.Select(r => r == 1
            ? new SandboxAccountRange { ResellerId = 1, From = 1, To = 99_999 }
            : new SandboxAccountRange { ResellerId = r, From = (r * 100_000L) + 1, To = (r * 100_000L) + 99_999 });

    public bool Holds(long accountId) => accountId >= From && accountId <= To;

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"accounts {From}–{To} of reseller {ResellerId}");
}

/// <summary>Body of <c>PUT /_sandbox/accounts/{id}</c>: the reseller the account belongs to.</summary>
public sealed class SandboxAccount
{
    public int ResellerId { get; set; }
}

/// <summary>An API token; it reaches <see cref="ResellerId"/> and every reseller below it.</summary>
public sealed class SandboxToken
{
    public string Token { get; set; } = "";

    public int ResellerId { get; set; }

    // The token is a secret: never let it reach a log through ToString().
    public override string ToString() => $"token for reseller {ResellerId}";
}

[JsonConverter(typeof(JsonStringEnumConverter<AsyncWriteMode>))]
public enum AsyncWriteMode
{
    /// <summary>Writes answer synchronously with the resource (the documented behaviour).</summary>
    Off,

    /// <summary>Every closing-document write answers 202 with an async task.</summary>
    All,

    /// <summary>Writes whose <c>key</c> matches <see cref="AsyncModeSettings.KeyPattern"/> (a regex) answer with a task.</summary>
    KeyPattern,
}

/// <summary>
/// Async answers to closing-document writes. The task reports <c>pending</c> on its first poll, <c>running</c>
/// on the polls after it, and <c>completed</c> (or <c>failed</c>) on poll number <see cref="PollsToComplete"/>,
/// which is exactly when the write takes effect (a failed task leaves no effect).
/// </summary>
public sealed class AsyncModeSettings
{
    public AsyncWriteMode Mode { get; set; } = AsyncWriteMode.Off;

    public string? KeyPattern { get; set; }

    public int PollsToComplete { get; set; } = 3;

    public bool Fail { get; set; }

    public string FailureMessage { get; set; } = "Closing document processing failed";

    /// <summary>Whether DELETE is also answered with a task (POST and PATCH always are, when the mode applies).</summary>
    public bool IncludeDeletes { get; set; }
}

/// <summary>
/// One fault rule, applied to API calls (never to <c>/_sandbox/</c>) matching <see cref="Method"/> and the path
/// filters. Latency of every matching rule adds up; then the first matching rule that has a fault left decides,
/// in this order within a rule: the "next N" counters (hang, lost answer, 429, error), then the rates (hang, lost
/// answer, 429, error; each drawn only when set).
/// </summary>
public sealed class FaultRule
{
    /// <summary>HTTP method to match, e.g. "POST"; null matches any.</summary>
    public string? Method { get; set; }

    /// <summary>Path prefix to match, e.g. "/api/v3/resellers/1/accounts/505/external_invoices"; null matches any.</summary>
    public string? PathPrefix { get; set; }

    /// <summary>Path fragment to match, e.g. "/external_invoices"; null matches any.</summary>
    public string? PathContains { get; set; }

    /// <summary>
    /// The page of a list to match (its <c>page[number]</c>, 1 when the call names none); null matches any call. Makes a list
    /// fail half-way: the first page served, a later one refused.
    /// </summary>
    public int? PageNumber { get; set; }

    /// <summary>Delay added before answering.</summary>
    public int LatencyMs { get; set; }

    /// <summary>The next N matching calls answer <see cref="ErrorStatus"/>.</summary>
    public int FailNext { get; set; }

    /// <summary>Share (0..1) of matching calls answering <see cref="ErrorStatus"/>, drawn from the seeded Random.</summary>
    public double ErrorRate { get; set; }

    public int ErrorStatus { get; set; } = 503;

    /// <summary>The next N matching calls answer 429 with <c>Retry-After: RetryAfterSeconds</c>.</summary>
    public int ThrottleNext { get; set; }

    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>The next N matching calls hang: until the client gives up, or for <see cref="HangMs"/> and then answer normally.</summary>
    public int HangNext { get; set; }

    public int? HangMs { get; set; }

    /// <summary>
    /// The next N matching calls are carried out — their effect happens — but the answer is lost on the way back: the
    /// client gets 502 instead (a proxy timing out after the platform applied the call).
    /// </summary>
    public int LoseAnswerNext { get; set; }

    /// <summary>
    /// The status a lost answer is replaced with (<see cref="LoseAnswerNext"/>, <see cref="LoseAnswerRate"/>): 502 by default;
    /// e.g. 503 for a gateway that gives up on a request the platform goes on to apply.
    /// </summary>
    public int LostAnswerStatus { get; set; } = 502;

    /// <summary>
    /// The next N matching calls are answered <see cref="LostAnswerStatus"/> at once and carried out later: a gateway gave
    /// up on the request while the platform still worked on it. Each lands after a delay, counted from its arrival, drawn from the seeded Random between
    /// <see cref="LandLateMinMs"/> and <see cref="LandLateMaxMs"/>, sent again to the sandbox itself (marked, so no rule faults or delays it) — unless the
    /// sandbox is reset or stopped first. Keep the delay below the client's attempt timeout: Bridge counts on no request
    /// being carried out later than one attempt timeout after it was sent (its in-flight window).
    /// </summary>
    public int LandLateNext { get; set; }

    /// <summary>Share (0..1) of matching calls answered at once and carried out later like <see cref="LandLateNext"/>.</summary>
    public double LandLateRate { get; set; }

    /// <summary>The shortest delay before a call answered by <see cref="LandLateNext"/> or <see cref="LandLateRate"/> is carried out.</summary>
    public int LandLateMinMs { get; set; }

    /// <summary>The longest delay before a call answered by <see cref="LandLateNext"/> or <see cref="LandLateRate"/> is carried out.</summary>
    public int LandLateMaxMs { get; set; } = 1000;

    /// <summary>Share (0..1) of matching calls that hang like <see cref="HangNext"/>, drawn from the seeded Random.</summary>
    public double HangRate { get; set; }

    /// <summary>Share (0..1) of matching calls answered 429 like <see cref="ThrottleNext"/>, drawn from the seeded Random.</summary>
    public double ThrottleRate { get; set; }

    /// <summary>Share (0..1) of matching calls carried out with their answer lost like <see cref="LoseAnswerNext"/>, drawn from the seeded Random.</summary>
    public double LoseAnswerRate { get; set; }

    /// <summary>
    /// A manager's change by hand to a payment (<see cref="SandboxHandChange.PaymentId"/> required), made each time this
    /// rule faults a call: after a call whose answer is lost was carried out, after a hang, and in place of a call answered
    /// with an error or 429 — always before the answer goes back, so the client's next read already sees it.
    /// </summary>
    public SandboxHandChange? ThenByHand { get; set; }

    /// <summary>
    /// A manager deletes the closing document with this id by hand each time this rule faults a call, at the same moment as
    /// <see cref="ThenByHand"/>: e.g. in place of a DELETE answered 503, so that the client's repeat finds it already gone.
    /// </summary>
    public long? ThenDeleteClosingDocumentByHand { get; set; }

    internal bool RatesAreValid() =>
        new[] { ErrorRate, HangRate, ThrottleRate, LoseAnswerRate, LandLateRate }.All(rate => rate is >= 0 and <= 1) && LandLateMinMs >= 0 && LandLateMaxMs >= LandLateMinMs && LandLateMaxMs <= MaxLandLateMs;

    /// <summary>The longest <see cref="LandLateMaxMs"/> accepted: a day.</summary>
    public const int MaxLandLateMs = 86_400_000;

    internal FaultRule Clone() => (FaultRule)MemberwiseClone();
}

/// <summary>The body of <c>PUT /_sandbox/scope</c>.</summary>
public sealed class SandboxScope
{
    /// <summary>403 or 404.</summary>
    public int OutOfScopeStatus { get; set; }
}
