using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.Payments;

/// <summary>What a status change Bridge sends to a payment (completion by id or from balance, cancellation) records before the send.</summary>
public sealed record StatusChangeSent(string PaymentId, string? StatusBefore, string Target);

/// <summary>How a status change was settled: the status the payment was found in, and how Bridge knows.</summary>
public sealed record StatusChangeSettled(string? Status, string How);

/// <summary>A status change's outcome: the payment after it, whether it was already in place, and the journal entry it closes.</summary>
public sealed record StatusChangeResult(Payment? Payment, bool AlreadyApplied, EffectResolution? Resolution);

/// <summary>
/// Every effect Bridge has on one payment is one journal group — its statement lines and Bridge's own status changes
/// (completion by id, from balance, cancellation) — keyed by the payment number, in the statement lines' scope. At most
/// one of them is unresolved at a time, and whoever next touches the payment settles it first: so between the state a
/// statement line recorded before its send and its read-back, no other flow of Bridge can have changed the payment, and
/// a line's read-back can never take another flow's change for its own.
/// </summary>
public sealed class PaymentEffectGroup(IPaymentsClient payments, IEffectJournal journal, IOptions<ActivePlatformOptions> activePlatformOptions)
{
    /// <summary>A status change of the payment with this number, sent by one message.</summary>
    public static EffectId StatusChangeId(long resellerId, string paymentNumber, string target, string idempotencyKey)
        => new(PaymentScopes.StatementLine(resellerId), $"{paymentNumber}\n{target}\n{idempotencyKey}", paymentNumber);

    /// <summary>Settles the payment's unresolved effect, if it has one, whichever flow and message sent it.</summary>
    public async Task SettleOpenAsync(long resellerId, string number, CancellationToken cancellationToken)
    {
        if (await journal.FindOpenAsync(PaymentScopes.StatementLine(resellerId), number, cancellationToken) is not { } open)
        {
            return;
        }

        if (open.EvidenceAs<StatusChangeSent>() is { Target: not null } change)
        {
            await SettleStatusChangeAsync(open, change, resellerId, number, cancellationToken);
        }
        else
        {
            await SettleLineAsync(open, resellerId, number, cancellationToken);
        }
    }

    /// <summary>
    /// Changes the payment's status as an effect of its group: the group's unresolved effect is settled first, the change is
    /// journaled before it is sent, and no statement line of the payment is sent until it is resolved. A payment already in
    /// <paramref name="target"/> is reported already applied (unless this message's own change put it there).
    /// </summary>
    public async Task<StatusChangeResult> ChangeStatusAsync(
        long resellerId, string paymentId, string target, string idempotencyKey, Func<Task<Payment>> send, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(send);
        var current = await payments.GetAsync(resellerId, paymentId, cancellationToken);
        if (current?.Attributes.DocumentId is not { } number)
        {
            // No payment (or no number) to group by: ActivePlatform answers the change itself (a 404 is a refusal).
            return await SendAsync(resellerId, paymentId, target, current, send, null, null, cancellationToken);
        }

        await SettleOpenAsync(resellerId, number, cancellationToken);
        var id = StatusChangeId(resellerId, number, target, idempotencyKey);
        if (current.Attributes.Status == target)
        {
            var own = await journal.FindAsync(id, cancellationToken);
            return new StatusChangeResult(current, AlreadyApplied: own?.State != EffectState.Applied, null);
        }

        var fingerprint = PayloadFingerprint.Of(new { paymentId, target });
        var attempt = await journal.TryBeginAsync(id, idempotencyKey, fingerprint, EffectEvidence.Of(new StatusChangeSent(paymentId, current.Attributes.Status, target)), cancellationToken)
            ?? throw new EffectPendingException($"Payment {paymentId} ({number}): another effect on it is being settled; its change to '{target}' waits.");

        // Another effect on the payment (a statement line) may have ended between the read above and the entry that now
        // fences the payment: the change is judged against the payment as it is now.
        Payment? fenced;
        try
        {
            fenced = await payments.GetAsync(resellerId, paymentId, cancellationToken);
        }
        catch
        {
            await ResolveAsync(id, attempt, EffectState.NotApplied, new StatusChangeSettled(current.Attributes.Status, "not sent: the payment could not be read again before the send"));
            throw;
        }

        if (fenced?.Attributes.Status == target)
        {
            await ResolveAsync(id, attempt, EffectState.NotApplied, new StatusChangeSettled(target, "not sent: the payment reached the status before the send"));
            return new StatusChangeResult(fenced, AlreadyApplied: true, null);
        }

        return await SendAsync(resellerId, paymentId, target, fenced, send, id, attempt, cancellationToken);
    }

    private async Task<StatusChangeResult> SendAsync(
        long resellerId, string paymentId, string target, Payment? current, Func<Task<Payment>> send, EffectId? id, string? attempt, CancellationToken cancellationToken)
    {
        if (current?.Attributes.Status == target)
        {
            return new StatusChangeResult(current, AlreadyApplied: true, null);
        }

        Payment after;
        try
        {
            after = await send();
        }
        catch (ActivePlatformPermanentException refused) when (refused.Status == 422)
        {
            // A PATCH or DELETE the HTTP layer repeated after a lost answer is refused because the first one applied: that is success.
            var now = await payments.GetAsync(resellerId, paymentId, cancellationToken);
            if (now?.Attributes.Status != target)
            {
                await ResolveAsync(id, attempt, EffectState.NotApplied, new StatusChangeSettled(now?.Attributes.Status, "refused: " + refused.Message));
                throw;
            }

            after = now;
        }
        catch (Exception ex) when (EffectFailures.ProvesNotApplied(ex))
        {
            await ResolveAsync(id, attempt, EffectState.NotApplied, new StatusChangeSettled(current?.Attributes.Status, "answered: " + ex.Message));
            throw;
        }

        var evidence = new StatusChangeSettled(after.Attributes.Status, "ActivePlatform's answer to the change");
        await ResolveAsync(id, attempt, EffectState.Applied, evidence);
        return new StatusChangeResult(
            after,
            AlreadyApplied: false,
            id is null ? null : new EffectResolution(id, attempt!, EffectState.Applied, null, EffectEvidence.Of(evidence)));
    }

    private async Task ResolveAsync(EffectId? id, string? attempt, EffectState state, StatusChangeSettled evidence)
    {
        if (id is not null)
        {
            await journal.ResolveAsync(id, attempt!, state, null, EffectEvidence.Of(evidence), CancellationToken.None);
        }
    }

    /// <summary>
    /// A status change whose answer never reached the journal: the payment in the target status settles it applied; in any
    /// other, once the change can no longer be in flight, not applied (a status change cannot be applied twice, so there is
    /// nothing an operator must decide).
    /// </summary>
    private async Task SettleStatusChangeAsync(EffectEntry open, StatusChangeSent change, long resellerId, string number, CancellationToken cancellationToken)
    {
        var effect = $"The change of payment {change.PaymentId} ({number}) to '{change.Target}'";
        var now = await EffectReadBack.RunAsync(effect, () => payments.GetAsync(resellerId, change.PaymentId, cancellationToken))
            ?? throw EffectReadBack.Failed(effect, $"payment {change.PaymentId} was not found");
        var status = now.Attributes.Status;
        if (string.Equals(status, change.Target, StringComparison.Ordinal))
        {
            await journal.ResolveAsync(open.Id, open.Attempt, EffectState.Applied, null, EffectEvidence.Of(new StatusChangeSettled(status, "read back: the payment is in the status the change sets")), CancellationToken.None);
            return;
        }

        var window = EffectTiming.InFlightWindow(activePlatformOptions.Value);
        if (open.SinceSent < window)
        {
            throw new EffectPendingException(
                $"{effect} was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; the payment is '{status}' so far, waiting until {window.TotalSeconds:0} s have passed before concluding it was not applied.");
        }

        await journal.ResolveAsync(open.Id, open.Attempt, EffectState.NotApplied, null, EffectEvidence.Of(new StatusChangeSettled(status, $"read back: the payment is '{status}', not '{change.Target}', and the change can no longer be in flight")), CancellationToken.None);
    }

    /// <summary>
    /// Settles a line sent earlier whose answer never reached Bridge's record (a lost answer, a crash, a killed instance):
    /// the payment is read back and the change attributed to that line, or found unchanged, or — when it cannot be told —
    /// the line is marked Unknown for an operator. Never sent again on a guess.
    /// </summary>
    private async Task SettleLineAsync(EffectEntry open, long resellerId, string number, CancellationToken cancellationToken)
    {
        var before = open.EvidenceAs<LineSent>();
        if (before?.PaymentId is not { } paymentId)
        {
            await journal.ResolveAsync(open.Id, open.Attempt, EffectState.Unknown, null, EffectEvidence.Of(new LineUnresolved("the payment could not be read by its number before the send, so nothing can be compared", before)), CancellationToken.None);
            return;
        }

        // A read-back answered with an error (or a payment read before the send that is not found now) proves nothing about
        // the line: retried, never a rejection of the message being handled, never Unknown for want of an answer.
        var effect = $"Statement line {open.Id.Key} of payment {number}";
        var now = await EffectReadBack.RunAsync(effect, () => payments.GetAsync(resellerId, paymentId, cancellationToken))
            ?? throw EffectReadBack.Failed(effect, $"payment {paymentId} was not found");
        var corrections = await EffectReadBack.RunAsync(effect, () => payments.GetCorrectionsAsync(resellerId, paymentId, cancellationToken));
        var (state, applied, reason) = StatementLineEffect.Attribute(before, now, corrections);
        var window = EffectTiming.InFlightWindow(activePlatformOptions.Value);
        if (state == EffectState.NotApplied && open.SinceSent < window)
        {
            // The send may still be carried out by ActivePlatform: "unchanged" is not yet proof.
            throw new EffectPendingException(
                $"Statement line {open.Id.Key} was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; the payment is unchanged so far, waiting until {window.TotalSeconds:0} s have passed before concluding it was not applied.");
        }

        var evidence = applied is not null ? EffectEvidence.Of(applied) : EffectEvidence.Of(new LineUnresolved(reason, before));
        try
        {
            await journal.ResolveAsync(open.Id, open.Attempt, state, applied?.CorrectionId, evidence, CancellationToken.None);
        }
        catch (System.Data.Common.DbException ex) when (Storage.SqlValues.IsUniqueViolation(ex))
        {
            // The correction the read-back found already belongs to another line: this line's change cannot be told apart.
            await journal.ResolveAsync(open.Id, open.Attempt, EffectState.Unknown, null, EffectEvidence.Of(new LineUnresolved($"the new correction {applied?.CorrectionId} already belongs to another statement line", before)), CancellationToken.None);
        }
    }
}
