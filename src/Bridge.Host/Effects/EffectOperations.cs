using System.Data.Common;
using System.Globalization;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform;
using Bridge.Host.Storage;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Effects;

[JsonConverter(typeof(JsonStringEnumConverter<EffectActionOutcome>))]
public enum EffectActionOutcome
{
    /// <summary>The effect is resolved as asked.</summary>
    Done,

    NotFound,

    /// <summary>The effect's state does not allow it (already resolved, still in flight, sent again meanwhile, resource owned by another effect).</summary>
    Conflict,

    /// <summary>The request does not fit the effect (e.g. a top-up resolved as applied without the payment's id).</summary>
    Invalid,
}

/// <param name="State">The effect's state after the action (or as found, when refused).</param>
public sealed record EffectActionResult(string Id, EffectActionOutcome Outcome, EffectState? State, string? Detail, EffectDetails? Effect = null);

/// <summary>
/// What operators do with effects whose outcome Bridge could not tell: resolve one as applied (with the ActivePlatform
/// resource they found) or not applied, with a note saying who checked what. Only an Unknown effect, or an open one sent
/// longer ago than <see cref="EffectTiming.OperatorMayResolveOpenAfter(Bridge.ActivePlatform.ActivePlatformOptions, EffectEntry)"/>, can be resolved, and only by a conditional
/// update on the state and attempt the operator saw, so of two racing resolutions one wins. Every resolution, refused ones
/// included, is recorded in the effect's audit trail; the note is also kept in the effect's evidence.
/// </summary>
public sealed partial class EffectOperations(
    SqlEffectAdminStore store,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    EffectMetrics metrics,
    TimeProvider clock,
    ILogger<EffectOperations> logger,
    IEnumerable<IEffectResourceCheck>? resourceChecks = null)
{
    public const string ResolveAction = "Resolve";

    public const int MaxNoteLength = 2000;

    public const int MaxResourceIdLength = 100;

    /// <summary>How long after its send an open effect may be resolved by an operator, by this instance's settings.</summary>
    public TimeSpan OpenResolvableAfter => EffectTiming.OperatorMayResolveOpenAfter(activePlatformOptions.Value);

    /// <summary>
    /// How long after its send <paramref name="entry"/> may be resolved by an operator: by the larger of this instance's
    /// settings and those its sender recorded with the send.
    /// </summary>
    public TimeSpan OpenResolvableAfterFor(EffectEntry entry) => EffectTiming.OperatorMayResolveOpenAfter(activePlatformOptions.Value, entry);

    /// <summary>Why <paramref name="entry"/> cannot be resolved by an operator now, or null when it can.</summary>
    public string? WhyNotResolvable(EffectEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.State switch
        {
            EffectState.Unknown => null,
            EffectState.Applied or EffectState.NotApplied => $"it is already resolved as {entry.State}",
            _ when entry.SinceSent >= OpenResolvableAfterFor(entry) => null,
            _ => string.Create(
                CultureInfo.InvariantCulture,
                $"it is {entry.State} and was sent {entry.SinceSent.TotalSeconds:0} s ago: until {OpenResolvableAfterFor(entry).TotalSeconds:0} s after the send (ActivePlatform:TotalTimeout + AttemptTimeout + AsyncTaskPolling:Deadline, the larger of this instance's and those its sender recorded) the send may still be carried out, and Bridge settles it itself"),
        };
    }

    /// <summary>
    /// Why <paramref name="entry"/> cannot be resolved as <paramref name="resolution"/> now, or null when it can. An Unknown
    /// effect may be resolved as applied at once (nothing is sent again), but as not applied only once
    /// <see cref="OpenResolvableAfter"/> has passed since its send: until then the send may still be carried out by
    /// ActivePlatform — not showing there yet — and a replay would apply it a second time.
    /// </summary>
    public string? WhyNotResolvable(EffectEntry entry, EffectState resolution)
    {
        return WhyNotResolvable(entry) ?? (resolution == EffectState.NotApplied ? WhyNotYetNotApplied(entry) : null);
    }

    /// <summary>Why an Unknown <paramref name="entry"/> cannot be resolved as not applied yet, or null when it can (or is not Unknown).</summary>
    public string? WhyNotYetNotApplied(EffectEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.State == EffectState.Unknown && entry.SinceSent < OpenResolvableAfterFor(entry)
            ? string.Create(
                CultureInfo.InvariantCulture,
                $"it was sent {entry.SinceSent.TotalSeconds:0} s ago: until {OpenResolvableAfterFor(entry).TotalSeconds:0} s after the send (ActivePlatform:TotalTimeout + AttemptTimeout + AsyncTaskPolling:Deadline, the larger of this instance's and those its sender recorded) ActivePlatform may still carry it out without it showing yet, and sending it again could apply it twice. Resolve it as applied if you find it; as not applied only after that")
            : null;
    }

    /// <summary>Problems with an operator's note or resource id as text (empty when fine); the flow's own needs are checked by <see cref="ResolveAsync"/>.</summary>
    public static IReadOnlyList<string> ValidateInput(string? note, string? resourceId)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(note))
        {
            problems.Add("note: required — who checked what in ActivePlatform, and why this resolution (it is kept in the effect's evidence and audit trail)");
        }
        else if (note.Trim().Length > MaxNoteLength)
        {
            problems.Add($"note: at most {MaxNoteLength} characters");
        }
        else if (note.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')))
        {
            problems.Add("note: must not hold control characters");
        }

        if (resourceId is not null && (resourceId.Trim().Length == 0 || resourceId.Trim().Length > MaxResourceIdLength || resourceId.Trim().Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
        {
            problems.Add($"resourceId: an ActivePlatform id of 1 to {MaxResourceIdLength} characters without spaces or control characters");
        }

        return problems;
    }

    public async Task<EffectActionResult> ResolveAsync(
        string id, EffectState resolution, string? resourceId, string note, string? expectedAttempt, string actor, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        var details = await store.GetAsync(id, cancellationToken);
        if (details is null)
        {
            return new EffectActionResult(id, EffectActionOutcome.NotFound, null, "No effect has this id.");
        }

        var entry = details.Effect.Entry;
        note = note?.Trim() ?? "";
        resourceId = string.IsNullOrWhiteSpace(resourceId) ? null : resourceId.Trim();
        var asked = $"{resolution}" + (resourceId is null ? "" : $" (resource {resourceId})") + $": {note}";
        if (resolution is not (EffectState.Applied or EffectState.NotApplied))
        {
            return await RefuseAsync(entry, actor, asked, EffectActionOutcome.Invalid, "An effect is resolved as Applied or NotApplied.", cancellationToken);
        }

        if (ValidateInput(note, resourceId) is { Count: > 0 } problems)
        {
            return await RefuseAsync(entry, actor, asked, EffectActionOutcome.Invalid, string.Join("; ", problems), cancellationToken);
        }

        var kind = EffectKinds.Of(entry.Id.Scope);
        if (resolution == EffectState.Applied && resourceId is null && kind.ResourceRequired)
        {
            return await RefuseAsync(
                entry, actor, asked, EffectActionOutcome.Invalid,
                $"A {kind.Name} resolved as Applied needs the ActivePlatform resource it made: give its {kind.ResourceName} (later messages for this key are answered with it).",
                cancellationToken);
        }

        if (resolution == EffectState.NotApplied && resourceId is not null)
        {
            return await RefuseAsync(entry, actor, asked, EffectActionOutcome.Invalid, "A resource id belongs to an Applied resolution: an effect that was not applied made nothing.", cancellationToken);
        }

        if (expectedAttempt is not null && !string.Equals(expectedAttempt, entry.Attempt, StringComparison.Ordinal))
        {
            return await RefuseAsync(
                entry, actor, asked, EffectActionOutcome.Conflict,
                $"The effect was sent again since attempt {expectedAttempt} (now attempt {entry.Attempt}, {entry.State}): look at it again before resolving it.",
                cancellationToken);
        }

        if (WhyNotResolvable(entry) is { } why)
        {
            return await RefuseAsync(entry, actor, asked, EffectActionOutcome.Conflict, $"Only an Unknown effect (or an open one past its wait) can be resolved: {why}.", cancellationToken);
        }

        if (WhyNotResolvable(entry, resolution) is { } notYet)
        {
            return await RefuseAsync(entry, actor, asked, EffectActionOutcome.Conflict, $"Not applied cannot be recorded yet: {notYet}.", cancellationToken);
        }

        if (resolution == EffectState.Applied && resourceId is null
            && resourceChecks?.FirstOrDefault(check => string.Equals(check.Prefix, kind.Prefix, StringComparison.Ordinal)) is { } needs
            && await needs.RefusalWithoutResourceAsync(entry, cancellationToken) is { } missing)
        {
            return await RefuseAsync(entry, actor, asked, EffectActionOutcome.Invalid, missing, cancellationToken);
        }

        // The resource named must be there and be this effect's, where the flow can tell: a resolution is the operator's word,
        // but a mistyped id would otherwise be answered to the ERP as its payment.
        if (resolution == EffectState.Applied && resourceId is not null
            && resourceChecks?.FirstOrDefault(check => string.Equals(check.Prefix, kind.Prefix, StringComparison.Ordinal)) is { } check
            && await check.RefusalAsync(entry, resourceId, cancellationToken) is { } refusal)
        {
            return await RefuseAsync(entry, actor, asked, EffectActionOutcome.Invalid, refusal, cancellationToken);
        }

        var evidence = EffectEvidence.Of(new OperatorResolution(actor, note, resolution, entry.State, resourceId, clock.GetUtcNow(), OperatorResolution.Keep(entry.Evidence)));
        var action = new EffectAction(actor, ResolveAction, resolution.ToString(), $"from {entry.State}, attempt {entry.Attempt}" + (resourceId is null ? "" : $", resource {resourceId}") + $": {note}");
        bool resolved;
        try
        {
            resolved = await store.TryResolveAsync(entry, resolution, resourceId, evidence, OpenResolvableAfterFor(entry), action, cancellationToken);
        }
        catch (DbException ex) when (SqlValues.IsUniqueViolation(ex))
        {
            return await RefuseAsync(
                entry, actor, asked, EffectActionOutcome.Conflict,
                $"{kind.ResourceName} {resourceId} already belongs to another effect of {entry.Id.Scope}: one ActivePlatform resource is the effect of one message.",
                cancellationToken);
        }

        if (!resolved)
        {
            // Another operator, or a delivery settling it, changed it between the read and the conditional update.
            if ((await store.GetAsync(id, cancellationToken))?.Effect.Entry is not { } now)
            {
                return new EffectActionResult(id, EffectActionOutcome.NotFound, null, "The effect was purged while it was being resolved.");
            }

            return await RefuseAsync(
                now, actor, asked, EffectActionOutcome.Conflict,
                $"The effect changed while it was being resolved (now {now.State}, attempt {now.Attempt}); nothing was changed by this request.",
                cancellationToken);
        }

        metrics.Resolved(resolution);
        LogResolved(logger, entry.Id.Scope, id, resolution, entry.State, actor);
        var after = await store.GetAsync(id, cancellationToken);
        return new EffectActionResult(id, EffectActionOutcome.Done, resolution, $"Resolved as {resolution} from {entry.State}.", after);
    }

    private async Task<EffectActionResult> RefuseAsync(
        EffectEntry entry, string actor, string asked, EffectActionOutcome outcome, string why, CancellationToken cancellationToken)
    {
        await store.AuditAsync(entry.Id.Hash, new EffectAction(actor, ResolveAction, $"Refused: {outcome}", $"{asked} — {why}"), cancellationToken);
        metrics.Refused();
        return new EffectActionResult(entry.Id.Hash, outcome, entry.State, why, await store.GetAsync(entry.Id.Hash, cancellationToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Effect {Scope}/{EffectId} resolved as {Resolution} (from {From}) by operator {Actor}")]
    private static partial void LogResolved(ILogger logger, string scope, string effectId, EffectState resolution, EffectState from, string actor);
}
