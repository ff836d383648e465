using Bridge.ActivePlatform.Models;
using Bridge.ActivePlatform.Payments;
using Bridge.Host.Effects;
using Bridge.Host.Features.Payments;

namespace Bridge.Tests.Idempotency;

/// <summary>
/// The fast layer under a status change by id whose answer was lost (or refused because the payment is already in the
/// target status): the payment found in that status is this change's only on this change's own evidence. Completing a
/// postpaid invoice also completes its payment, outside the payment's journal group.
/// </summary>
public sealed class StatusChangeAttributionTests
{
    private static Payment Completed(long? method, params string[] invoices) => new()
    {
        Id = "3001",
        Attributes = new PaymentAttributes { Status = PaymentStatuses.Completed, PaymentMethodId = method, DocumentId = "003001" },
        Relationships = new Dictionary<string, JsonApiRelationship>
        {
            ["invoices"] = new() { Data = [.. invoices.Select(i => new JsonApiResourceIdentifier { Id = i, Type = "invoices" })] },
        },
    };

    private static StatusChangeSent Completion(long? method) => new("3001", PaymentStatuses.WaitingForPayment, PaymentStatuses.Completed, method);

    [Theory]
    [InlineData(null)]
    [InlineData(1L)]
    public void A_payment_completed_with_another_method_or_none_was_completed_by_something_else(long? found)
    {
        var (state, how) = PaymentEffectGroup.AttributeTargetReached(Completion(2), Completed(found, "2050"));

        Assert.Equal(EffectState.NotApplied, state);
        Assert.Contains("something else completed it", how, StringComparison.Ordinal);
    }

    [Fact]
    public void A_payment_linked_to_an_invoice_completed_with_this_method_cannot_be_told_apart()
    {
        var (state, how) = PaymentEffectGroup.AttributeTargetReached(Completion(2), Completed(2, "2050"));

        Assert.Equal(EffectState.Unknown, state);
        Assert.Contains("invoice 2050", how, StringComparison.Ordinal);
    }

    [Fact]
    public void A_legacy_entry_without_its_method_for_a_payment_linked_to_an_invoice_is_unknown_not_applied()
        => Assert.Equal(EffectState.Unknown, PaymentEffectGroup.AttributeTargetReached(Completion(null), Completed(2, "2050")).State);

    [Fact]
    public void A_payment_of_no_invoice_completed_with_this_method_is_this_completions()
        => Assert.Equal(EffectState.Applied, PaymentEffectGroup.AttributeTargetReached(Completion(2), Completed(2)).State);

    [Fact]
    public void Other_targets_keep_their_status_as_evidence()
    {
        var cancel = new StatusChangeSent("3001", PaymentStatuses.WaitingForPayment, PaymentStatuses.Cancelled);
        var cancelled = Completed(null) with { Attributes = new PaymentAttributes { Status = PaymentStatuses.Cancelled } };

        Assert.Equal(EffectState.Applied, PaymentEffectGroup.AttributeTargetReached(cancel, cancelled).State);
    }
}
