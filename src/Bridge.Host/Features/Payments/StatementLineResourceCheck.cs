using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Host.Effects;

namespace Bridge.Host.Features.Payments;

/// <summary>
/// An operator's "applied, correction X" for a statement line is recorded only when X is a correction of the line's payment
/// that was not there before the line was sent, and its total is one the line makes (its paid amount, or an overpayment's
/// excess). Otherwise the ERP would be answered with another line's, or a manager's, correction as this line's. A status
/// change of the payment (same journal group) makes no correction at all.
/// </summary>
public sealed class StatementLineResourceCheck(IPaymentsClient payments) : IEffectResourceCheck
{
    public string Prefix => PaymentScopes.StatementLinePrefix;

    public async Task<string?> RefusalAsync(EffectEntry entry, string resourceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.EvidenceAs<StatusChangeSent>() is { Target: not null } change)
        {
            return $"This effect is a change of payment {change.PaymentId} to '{change.Target}', which makes no correction: resolve it without a resource id.";
        }

        if (!long.TryParse(entry.Id.Scope.AsSpan(Prefix.Length + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var resellerId))
        {
            return $"The effect's scope '{entry.Id.Scope}' names no reseller, so correction {resourceId} cannot be checked.";
        }

        if (StatementLineEffect.SentOf(entry) is not { PaymentId: { } paymentId } before)
        {
            // The payment was not found by its number before the send: there is nothing to check the correction against.
            return null;
        }

        IReadOnlyDictionary<string, PaymentCorrectionAttributes> corrections;
        try
        {
            corrections = await payments.GetCorrectionsAsync(resellerId, paymentId, cancellationToken);
        }
        catch (ActivePlatformException ex)
        {
            return $"The corrections of payment {paymentId} could not be read from ActivePlatform to check correction {resourceId} ({ex.Message}); resolve again once ActivePlatform answers.";
        }

        if (!corrections.TryGetValue(resourceId, out var correction))
        {
            return $"Payment {paymentId} has no correction {resourceId} in ActivePlatform: give the id of the correction this line made, as ActivePlatform shows it (or none, if it made none).";
        }

        var number = entry.Id.Key.Split('|')[0];
        if (!StatementLineEffect.IsPlatformCorrection(correction, number))
        {
            return $"Correction {resourceId} does not carry the comment ActivePlatform gives a paid amount of payment {number} (\"{StatementLineEffect.PlatformCorrectionComment(number)}\"): it was entered otherwise (by hand), and is not this line's.";
        }

        if (before.CorrectionIds.Contains(resourceId, StringComparer.Ordinal))
        {
            return $"Correction {resourceId} was on payment {paymentId} before this line was sent: it is not this line's.";
        }

        var possible = StatementLineEffect.PossibleCorrections(before);
        if (possible.Count > 0 && (correction.Total is not { } total || !possible.Contains(total)))
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"Correction {resourceId} is for {correction.Total?.ToString(CultureInfo.InvariantCulture) ?? "no total"}, and this line makes a correction of {string.Join(" or ", possible.Select(p => p.ToString(CultureInfo.InvariantCulture)))} only: it is not this line's.");
        }

        return null;
    }

    public Task<string?> RefusalWithoutResourceAsync(EffectEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Task.FromResult(StatementLineEffect.SentOf(entry) is { } before && StatementLineEffect.AlwaysMakesACorrection(before)
            ? "This statement line, applied, made a correction (it paid part of the payment, overpaid it, or met it closed): give the correction's id (--resource-id), so the ERP is told which correction is the line's."
            : null);
    }
}
