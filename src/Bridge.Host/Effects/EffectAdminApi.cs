using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bridge.Host.Admin;

namespace Bridge.Host.Effects;

/// <summary>
/// The effect routes of the admin API, under <c>/admin/effects</c> (each route declares its answers for <c>/admin/openapi.json</c>): list effects
/// that need an operator, show one with its evidence and audit trail, and resolve an Unknown one.
/// </summary>
public static partial class EffectAdminApi
{
    public const int DefaultPageSize = 50;

    public static RouteGroupBuilder MapEffectAdmin(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var group = admin.MapGroup("/effects").WithTags("Effects");
        group.MapGet("", ListAsync)
            .Describe(
                "listEffects",
                "List effects, oldest send first, paged: by default the ones that need an operator — every Unknown effect, and every open one " +
                "(Sending, AsyncTask) sent at least `olderThan` ago.")
            .Answers<EffectListView>(StatusCodes.Status200OK, "OK")
            .Refuses(StatusCodes.Status400BadRequest, "A malformed state, duration or page.");
        group.MapGet("/{id}", ShowAsync)
            .Describe("showEffect", "One effect with its evidence and audit trail.")
            .Answers<EffectView>(StatusCodes.Status200OK, "OK")
            .Refuses(StatusCodes.Status400BadRequest, "Not an effect id.")
            .Refuses(StatusCodes.Status404NotFound, "No effect has this id (resolved effects are purged after `Bridge:Effects:RetainResolvedFor`).");

        var act = group.MapGroup("")
            .RequireAuthorization(AdminPolicies.Operate)
            .Refuses(StatusCodes.Status403Forbidden, "The token is read-only.");
        act.MapPost("/{id}/resolve", ResolveAsync)
            .Describe(
                "resolveEffect",
                "Record what an operator found in ActivePlatform for an Unknown effect (or an open one sent more than " +
                "`openResolvableAfterSeconds` ago): Applied (with the resource it made) or NotApplied, with a note.",
                "Applied only while the effect is still in the state and attempt read (one of two racing resolutions wins). Then replay its " +
                "dead letter: Applied answers the message without sending; NotApplied sends the effect again.")
            .Answers<ResolveResultView>(StatusCodes.Status200OK, "Resolved.")
            .Refuses(
                StatusCodes.Status400BadRequest,
                "No body, no note, a resolution other than Applied/NotApplied, an Applied resolution without the resource id the effect's kind " +
                "needs, or a resource id with NotApplied.")
            .Refuses(StatusCodes.Status404NotFound, "No effect has this id.")
            .Refuses(
                StatusCodes.Status409Conflict,
                "Not possible in the effect's current state (already resolved, still in flight, sent again since `attempt`, changed meanwhile, " +
                "or the resource belongs to another effect); `effectState` says which.");
        return group;
    }

    /// <summary>The body of <c>POST /admin/effects/{id}/resolve</c>.</summary>
    /// <param name="Resolution"><c>Applied</c> or <c>NotApplied</c>.</param>
    /// <param name="ResourceId">With <c>Applied</c>: the ActivePlatform resource the effect made (required for top-ups, corrections and closing-document creates).</param>
    /// <param name="Note">Who checked what in ActivePlatform, and why this resolution.</param>
    /// <param name="Attempt">Optional: the attempt the operator looked at; refused when the effect was sent again since.</param>
    public sealed record ResolveRequest(string? Resolution, string? ResourceId, string? Note, string? Attempt);

    /// <summary>One effect as the API shows it.</summary>
    /// <param name="Id">The effect's id (64 hex characters): what <c>show</c> and <c>resolve</c> take.</param>
    /// <param name="Owner">The idempotency key of the message that sent it (the dead letter's message id, or its body's <c>idempotencyKey</c>).</param>
    /// <param name="Resolvable">Whether an operator may resolve it now; when not, <see cref="NotResolvableBecause"/> says why.</param>
    public sealed record EffectView(
        string Id,
        string Kind,
        string Scope,
        string Key,
        string Group,
        string Owner,
        string Attempt,
        EffectState State,
        bool Open,
        DateTimeOffset SentAt,
        DateTimeOffset UpdatedAt,
        double SecondsSinceSent,
        string? AsyncTaskId,
        string? ResourceId,
        JsonElement? Evidence,
        bool Resolvable,
        string? NotResolvableBecause,
        IReadOnlyList<EffectAuditEntry>? Audit)
    {
        /// <summary>
        /// For an Unknown effect sent less than the wait ago: why it can be resolved as applied but not yet as not applied
        /// (its send may still be carried out); null when "not applied" may be chosen now.
        /// </summary>
        public string? NotAppliedNotYetBecause { get; init; }

        public static EffectView From(EffectRecord record, EffectOperations operations, IReadOnlyList<EffectAuditEntry>? audit = null)
        {
            ArgumentNullException.ThrowIfNull(record);
            ArgumentNullException.ThrowIfNull(operations);
            var entry = record.Entry;
            var why = operations.WhyNotResolvable(entry);
            return new EffectView(
                record.Id, EffectKinds.Of(entry.Id.Scope).Name, entry.Id.Scope, entry.Id.Key, entry.Id.Group, entry.OwnerKey, entry.Attempt, entry.State, entry.IsOpen,
                entry.SentAt, record.UpdatedAt, Math.Round(entry.SinceSent.TotalSeconds, 3), entry.AsyncTaskId, entry.ResourceId,
                OperatorResolution.Keep(entry.Evidence), why is null, why, audit)
            {
                NotAppliedNotYetBecause = operations.WhyNotYetNotApplied(entry),
            };
        }
    }

    /// <param name="OpenOlderThanSeconds">With no state asked for: open effects are listed once sent this long ago.</param>
    /// <param name="OpenResolvableAfterSeconds">An open effect can be resolved by an operator once sent this long ago.</param>
    public sealed record EffectListView(IReadOnlyList<EffectView> Items, long Total, int Page, int PageSize, string? State, double OpenOlderThanSeconds, double OpenResolvableAfterSeconds);

    public sealed record ResolveResultView(string Id, EffectActionOutcome Outcome, EffectState? State, string? Detail, EffectView? Effect);

    /// <summary>Whether <paramref name="text"/> names a resolution: <c>Applied</c>, <c>NotApplied</c> (also <c>not-applied</c>, <c>not_applied</c>), any case.</summary>
    public static bool TryParseResolution(string? text, out EffectState resolution)
    {
        resolution = default;
        var normalized = (text ?? "").Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).Trim();
        if (string.Equals(normalized, nameof(EffectState.Applied), StringComparison.OrdinalIgnoreCase))
        {
            resolution = EffectState.Applied;
            return true;
        }

        if (string.Equals(normalized, nameof(EffectState.NotApplied), StringComparison.OrdinalIgnoreCase))
        {
            resolution = EffectState.NotApplied;
            return true;
        }

        return false;
    }

    /// <summary>An effect id as listed: 64 hex characters (any case).</summary>
    public static bool IsEffectId(string? id) => id is not null && EffectIdPattern().IsMatch(id);

    /// <param name="state">Only effects in this state (Sending, AsyncTask, Applied, NotApplied, Unknown); left out, the ones that need an operator.</param>
    /// <param name="scope">Only effects of this scope, e.g. <c>external_invoice</c>.</param>
    /// <param name="key">Only effects with this key within their scope.</param>
    /// <param name="group">Only effects of this group (the resource they act on).</param>
    /// <param name="owner">Only effects sent by the message with this idempotency key.</param>
    /// <param name="olderThan">With no state asked for: open effects sent at least this long ago (hh:mm:ss); by default, the time after which an operator may resolve an open effect (the answer's <c>openResolvableAfterSeconds</c>).</param>
    /// <param name="page">The page, from 1.</param>
    /// <param name="pageSize">Effects per page, 1 to 500.</param>
    private static async Task<IResult> ListAsync(
        string? state,
        string? scope,
        string? key,
        string? group,
        string? owner,
        string? olderThan,
        int? page,
        int? pageSize,
        SqlEffectAdminStore store,
        EffectOperations operations,
        CancellationToken cancellationToken)
    {
        EffectState? only = null;
        if (!string.IsNullOrWhiteSpace(state))
        {
            if (!Enum.TryParse<EffectState>(state.Trim(), ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(state, out _))
            {
                return BadRequest($"state must be one of {string.Join(", ", Enum.GetNames<EffectState>())}, or left out for the effects that need an operator.");
            }

            only = parsed;
        }

        var openOlderThan = operations.OpenResolvableAfter;
        if (!string.IsNullOrWhiteSpace(olderThan))
        {
            if (!TimeSpan.TryParse(olderThan.Trim(), CultureInfo.InvariantCulture, out openOlderThan) || openOlderThan < TimeSpan.Zero)
            {
                return BadRequest($"olderThan must be a duration such as 00:10:00 (hh:mm:ss) or 1.00:00:00 (one day), not '{olderThan}'.");
            }
        }

        var size = pageSize ?? DefaultPageSize;
        if (page is < 1 || size is < 1 or > SqlEffectAdminStore.MaxPageSize)
        {
            return BadRequest($"page must be 1 or more and pageSize between 1 and {SqlEffectAdminStore.MaxPageSize}.");
        }

        var found = await store.QueryAsync(new EffectFilter(only, openOlderThan, scope, key, group, owner), page ?? 1, size, cancellationToken);
        return Results.Ok(new EffectListView(
            found.Items.Select(record => EffectView.From(record, operations)).ToList(),
            found.Total,
            found.Page,
            found.PageSize,
            only?.ToString(),
            openOlderThan.TotalSeconds,
            operations.OpenResolvableAfter.TotalSeconds));
    }

    private static async Task<IResult> ShowAsync(string id, SqlEffectAdminStore store, EffectOperations operations, CancellationToken cancellationToken)
    {
        if (!IsEffectId(id))
        {
            return BadRequest("An effect id is the 64 hex characters 'bridge effects list' shows.");
        }

        return await store.GetAsync(id.ToLowerInvariant(), cancellationToken) is { } details
            ? Results.Ok(EffectView.From(details.Effect, operations, details.Audit))
            : NotFound("No effect has this id (resolved effects are purged after Bridge:Effects:RetainResolvedFor).");
    }

    private static async Task<IResult> ResolveAsync(string id, ResolveRequest? request, HttpContext http, EffectOperations operations, CancellationToken cancellationToken)
    {
        if (!IsEffectId(id))
        {
            return BadRequest("An effect id is the 64 hex characters 'bridge effects list' shows.");
        }

        if (request is null)
        {
            return BadRequest("Send {\"resolution\": \"Applied\" | \"NotApplied\", \"note\": \"who checked what\", \"resourceId\": \"…\" (with Applied), \"attempt\": \"…\" (optional)}.");
        }

        if (!TryParseResolution(request.Resolution, out var resolution))
        {
            return BadRequest("resolution must be Applied or NotApplied.");
        }

        if (EffectOperations.ValidateInput(request.Note, request.ResourceId) is { Count: > 0 } problems)
        {
            return BadRequest(string.Join("; ", problems) + ".");
        }

        var result = await operations.ResolveAsync(
            id.ToLowerInvariant(), resolution, request.ResourceId, request.Note!, string.IsNullOrWhiteSpace(request.Attempt) ? null : request.Attempt.Trim(), http.Caller().Name, cancellationToken);
        var view = new ResolveResultView(
            result.Id, result.Outcome, result.State, result.Detail, result.Effect is { } details ? EffectView.From(details.Effect, operations, details.Audit) : null);
        return result.Outcome switch
        {
            EffectActionOutcome.Done => Results.Ok(view),
            EffectActionOutcome.NotFound => NotFound(result.Detail ?? "No effect has this id."),
            EffectActionOutcome.Invalid => Results.Problem(
                statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: result.Detail,
                extensions: new Dictionary<string, object?> { ["effectState"] = result.State?.ToString() }),
            EffectActionOutcome.Conflict => Results.Problem(
                statusCode: StatusCodes.Status409Conflict, title: "Not possible in the effect's current state", detail: result.Detail,
                extensions: new Dictionary<string, object?> { ["effectState"] = result.State?.ToString() }),
            _ => throw new InvalidOperationException($"Unknown outcome {result.Outcome}."),
        };
    }

    private static IResult BadRequest(string detail) => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);

    private static IResult NotFound(string detail) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex EffectIdPattern();
}
