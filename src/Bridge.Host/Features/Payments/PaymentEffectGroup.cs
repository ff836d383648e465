using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.Payments;

/// <summary>
/// What a status change Bridge sends to a payment (completion by id or from balance, cancellation) records before the send;
/// a completion by id also the payment method it sets, which tells its completion from another one (rows written before
/// it was recorded have none).
/// </summary>
public sealed record StatusChangeSent(string PaymentId, string? StatusBefore, string Target, long? PaymentMethodId = null);

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
        long resellerId, string paymentId, string target, string idempotencyKey, Func<Task<Payment>> send, CancellationToken cancellationToken, long? paymentMethodId = null,
        Func<CancellationToken, Task>? beforeUnjournaledSend = null)
    {
        ArgumentNullException.ThrowIfNull(send);
        var current = await payments.GetAsync(resellerId, paymentId, cancellationToken);
        if (current?.Attributes.DocumentId is not { } number)
        {
            // No payment (or no number) to group by: ActivePlatform answers the change itself (a 404 is a refusal). Journaled
            // nowhere, so the message's record is stamped first (WorkContext.MarkUnjournaledSendAsync).
            if (beforeUnjournaledSend is not null && current?.Attributes.Status != target)
            {
                await beforeUnjournaledSend(cancellationToken);
            }

            return await SendAsync(resellerId, paymentId, target, current, send, null, null, cancellationToken);
        }

        await SettleOpenAsync(resellerId, number, cancellationToken);
        var id = StatusChangeId(resellerId, number, target, idempotencyKey);
        var own = await journal.FindAsync(id, cancellationToken);
        if (own?.State == EffectState.Unknown)
        {
            // Never sent again, never reported either way, until an operator has decided.
            throw new PaymentOutcomeUnknownException(UnknownInstructions(id, paymentId, number, target, own.EvidenceAs<StatusChangeSettled>()?.How ?? "no read-back"));
        }

        if (current.Attributes.Status == target)
        {
            return new StatusChangeResult(current, AlreadyApplied: own?.State != EffectState.Applied, null);
        }

        var fingerprint = PayloadFingerprint.Of(new { paymentId, target });
        var sent = new StatusChangeSent(paymentId, current.Attributes.Status, target, paymentMethodId);
        var attempt = await journal.TryBeginAsync(id, idempotencyKey, fingerprint, EffectEvidence.Of(sent), cancellationToken)
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

        // The send counts from now, not from the entry (see CompletePaymentHandler): settled meanwhile, nothing is sent.
        if (!await journal.TryStampSendAsync(id, attempt, cancellationToken))
        {
            throw new EffectAttemptSupersededException($"Payment {paymentId} ({number}): the change to '{target}' (attempt {attempt}) was settled by another delivery before its send; nothing was sent.");
        }

        return await SendAsync(resellerId, paymentId, target, fenced, send, id, attempt, cancellationToken, sent);
    }

    private async Task<StatusChangeResult> SendAsync(
        long resellerId, string paymentId, string target, Payment? current, Func<Task<Payment>> send, EffectId? id, string? attempt, CancellationToken cancellationToken,
        StatusChangeSent? sent = null)
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

            // The payment is in the target status, but the refusal may be of this change (another one got there first — its
            // invoice's completion, a manager): it is this change's only if the payment carries what this change sets.
            var (state, how) = AttributeTargetReached(sent ?? new StatusChangeSent(paymentId, current?.Attributes.Status, target), now);
            if (state != EffectState.Applied)
            {
                await ResolveAsync(id, attempt, state, new StatusChangeSettled(target, $"refused ({refused.Message}); {how}"));
                if (state == EffectState.Unknown)
                {
                    throw new PaymentOutcomeUnknownException(UnknownInstructions(id, paymentId, now.Attributes.DocumentId, target, how));
                }

                return new StatusChangeResult(now, AlreadyApplied: true, null);
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
            // Attributed by what this change sets, never by "the status changed": another change may have put it there (a
            // completion of its postpaid invoice, which completes the payment too, or a manager). A payment already in the
            // target status can no longer take this change, so there is nothing left to wait for.
            var (state, how) = AttributeTargetReached(change, now);
            await journal.ResolveAsync(open.Id, open.Attempt, state, null, EffectEvidence.Of(new StatusChangeSettled(status, how)), CancellationToken.None);
            return;
        }

        var window = EffectTiming.InFlightWindow(activePlatformOptions.Value, open);
        if (open.SinceSent < window)
        {
            throw new EffectPendingException(
                $"{effect} was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; the payment is '{status}' so far, waiting until {window.TotalSeconds:0} s have passed before concluding it was not applied.");
        }

        // Judged again where it is written: the delivery sending the change may have stamped it sent just now, after this
        // read-back was taken — then this read-back proves nothing.
        if (!await journal.TryResolveUnlandedAsync(open.Id, open.Attempt, EffectState.NotApplied, null, EffectEvidence.Of(new StatusChangeSettled(status, $"read back: the payment is '{status}', not '{change.Target}', and the change can no longer be in flight")), window, CancellationToken.None))
        {
            throw new EffectPendingException($"{effect} was sent again or settled while it was read back; reading it again.");
        }
    }

    /// <summary>
    /// Whose change put the payment in the status a change of Bridge sets, when that change's answer was lost or refused.
    /// Only a completion has a rival Bridge cannot fence: completing a postpaid invoice completes its linked payment
    /// (REFERENCE.md §6), and the invoice flow cannot know that payment before it sends. A completion by id sets its payment
    /// method: a payment completed with another method (or none) was completed by something else, and this completion can no
    /// longer apply (a completed payment refuses it). A payment linked to an invoice and completed with this method cannot be
    /// told apart (what method an invoice's completion records is not documented): Unknown, for an operator. Otherwise the
    /// status, with what this change sets, is this change's.
    /// </summary>
    public static (EffectState State, string How) AttributeTargetReached(StatusChangeSent change, Payment now)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(now);
        if (!string.Equals(change.Target, PaymentStatuses.Completed, StringComparison.Ordinal))
        {
            return (EffectState.Applied, "read back: the payment is in the status the change sets");
        }

        var method = now.Attributes.PaymentMethodId;
        if (change.PaymentMethodId is { } sent && method != sent)
        {
            return (EffectState.NotApplied, string.Create(CultureInfo.InvariantCulture,
                $"read back: the payment is completed with payment method {(method is { } m ? m.ToString(CultureInfo.InvariantCulture) : "none")}, not {sent} which this completion sets: something else completed it (its invoice's completion, a manager), and this completion can no longer apply"));
        }

        var invoices = StatementLineEffect.LinkedInvoices(now);
        if (invoices.Count > 0)
        {
            return (EffectState.Unknown,
                $"the payment is completed{(method is { } same ? string.Create(CultureInfo.InvariantCulture, $" with payment method {same}") : string.Empty)}, but it is linked to invoice {string.Join(", ", invoices)}, whose completion completes it too, and ActivePlatform does not tell which one completed it");
        }

        return (EffectState.Applied, change.PaymentMethodId is null
            ? "read back: the payment is in the status the change sets"
            : "read back: the payment is completed with the payment method this completion sets");
    }

    /// <summary>What an operator checks for a status change whose outcome Bridge cannot tell.</summary>
    public static string UnknownInstructions(EffectId? id, string paymentId, string? number, string target, string reason)
        => $"The change of payment {paymentId} ({number}) to '{target}' was sent to ActivePlatform and its answer was lost or refused; Bridge cannot tell whether it was this message's change ({reason}). "
            + "Check the payment's history in ActivePlatform: whether it was completed by this completion by id or by its invoice's completion. "
            + (id is null
                ? "The payment is in that status either way and nothing will be sent again: discard this message once you have told the ERP which one it was."
                : EffectInstructions.Resolve(id, string.Empty));

    /// <summary>
    /// Settles a line sent earlier whose answer never reached Bridge's record (a lost answer, a crash, a killed instance):
    /// once the line can no longer land (its in-flight window has passed), the payment is read back and the change attributed
    /// to that line, or found untouched, or — when it cannot be told — the line is marked Unknown for an operator. Never sent
    /// again on a guess, and no verdict before the window: a line still in flight may land after a read-back that matched
    /// something else (a manager's change), and until it is settled the line fences its payment against Bridge's other lines.
    /// </summary>
    private async Task SettleLineAsync(EffectEntry open, long resellerId, string number, CancellationToken cancellationToken)
    {
        var effect = $"Statement line {open.Id.Key} of payment {number}";
        var window = EffectTiming.InFlightWindow(activePlatformOptions.Value, open);
        if (open.SinceSent < window)
        {
            throw new EffectPendingException(
                $"{effect} was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; waiting until {window.TotalSeconds:0} s have passed (it may still land) before reading the payment back.");
        }

        var before = open.EvidenceAs<LineSent>();
        EffectState state;
        LineApplied? applied = null;
        string reason;
        if (before?.PaymentId is not { } paymentId)
        {
            (state, reason) = (EffectState.Unknown, "the payment could not be read by its number before the send, so nothing can be compared");
        }
        else
        {
            // A read-back answered with an error (or a payment read before the send that is not found now) proves nothing about
            // the line: retried, never a rejection of the message being handled, never Unknown for want of an answer.
            var now = await EffectReadBack.RunAsync(effect, () => payments.GetAsync(resellerId, paymentId, cancellationToken))
                ?? throw EffectReadBack.Failed(effect, $"payment {paymentId} was not found");
            var corrections = await EffectReadBack.RunAsync(effect, () => payments.GetCorrectionsAsync(resellerId, paymentId, cancellationToken));
            (state, applied, reason) = StatementLineEffect.Attribute(before, now, corrections);
        }

        var evidence = applied is not null ? EffectEvidence.Of(applied) : EffectEvidence.Of(new LineUnresolved(reason, before));
        bool settled;
        try
        {
            // Judged again where it is written: the delivery sending the line may have stamped it sent just now, after this
            // read-back was taken (and its send landed since) — then the read-back proves nothing.
            settled = await journal.TryResolveUnlandedAsync(open.Id, open.Attempt, state, applied?.CorrectionId, evidence, window, CancellationToken.None);
        }
        catch (System.Data.Common.DbException ex) when (Storage.SqlValues.IsUniqueViolation(ex))
        {
            // The correction the read-back found already belongs to another line: this line's change cannot be told apart.
            settled = await journal.TryResolveUnlandedAsync(
                open.Id, open.Attempt, EffectState.Unknown, null, EffectEvidence.Of(new LineUnresolved($"the new correction {applied?.CorrectionId} already belongs to another statement line", before)), window, CancellationToken.None);
        }

        if (!settled)
        {
            throw new EffectPendingException($"{effect} was sent again or settled while it was read back; reading it again.");
        }
    }
}
