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
}
