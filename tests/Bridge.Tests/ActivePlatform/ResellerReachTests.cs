using Bridge.ActivePlatform;
using Microsoft.Extensions.Time.Testing;

namespace Bridge.Tests.ActivePlatform;

public sealed class ResellerReachTests
{
    [Fact]
    public void A_confirmation_is_for_one_token_and_lasts_five_minutes_by_the_monotonic_clock()
    {
        var clock = new FakeTimeProvider();
        var reach = new ResellerReach(clock);

        reach.Confirm(10, "token-a");
        var sameToken = reach.IsConfirmed(10, "token-a");
        var otherToken = reach.IsConfirmed(10, "token-b");
        var otherReseller = reach.IsConfirmed(11, "token-a");
        clock.Advance(ResellerReach.FreshFor - TimeSpan.FromSeconds(1));
        var justBefore = reach.IsConfirmed(10, "token-a");
        clock.Advance(TimeSpan.FromSeconds(1));
        var atExpiry = reach.IsConfirmed(10, "token-a");

        Assert.True(sameToken);
        Assert.False(otherToken);
        Assert.False(otherReseller);
        Assert.True(justBefore);
        Assert.False(atExpiry);
    }

    [Fact]
    public void A_withdrawn_confirmation_is_gone_for_that_token_and_reseller_only()
    {
        var reach = new ResellerReach(new FakeTimeProvider());
        reach.Confirm(10, "token-a");
        reach.Confirm(11, "token-a");
        reach.Confirm(10, "token-b");

        reach.Withdraw(10, "token-a");

        Assert.False(reach.IsConfirmed(10, "token-a"));
        Assert.True(reach.IsConfirmed(11, "token-a"));
        Assert.True(reach.IsConfirmed(10, "token-b"));
    }

    /// <summary>
    /// The reach check's refusal carries the check's own status, often a 404 about the reseller: a handler catching "the
    /// resource is gone" must not take it for one (it would journal a document as absent that may be there).
    /// </summary>
    [Fact]
    public void A_refused_reach_check_answered_404_is_not_a_resource_not_found()
    {
        var notFound = new ActivePlatformFailureDetails { Status = 404 };
        var refused = new ResellerNotReachableException(7, notFound);
        var absent = new ActivePlatformPermanentException("gone", notFound);

        Assert.Equal(404, refused.Status);
        Assert.False(refused.IsResourceNotFound);
        Assert.True(absent.IsResourceNotFound);
        Assert.False(new ActivePlatformPermanentException("refused", new ActivePlatformFailureDetails { Status = 422 }).IsResourceNotFound);
    }
}
