using System.Collections.Concurrent;

namespace Bridge.ActivePlatform;

/// <summary>
/// The resellers the API token was recently seen to reach. ActivePlatform may answer a reseller outside the token's
/// subtree with 404 as well as 403 (REFERENCE.md §0, undocumented), and a 404 to a lookup by key is otherwise read as
/// "there is no such document": a delete would be reported done, the document never having been looked at. So a 404 is
/// read as "absent" only for a reseller confirmed reachable within <see cref="FreshFor"/>; one probe (a one-item page of
/// its subscriptions) confirms it, and a reseller that cannot be reached fails the call instead.
/// </summary>
public sealed class ResellerReach(TimeProvider clock)
{
    /// <summary>How long a confirmation stands: long enough to cost one probe per reseller now and then, short enough that a token narrowed in ActivePlatform is noticed.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<long, DateTimeOffset> _confirmed = new();

    public bool IsConfirmed(long resellerId) =>
        _confirmed.TryGetValue(resellerId, out var at) && clock.GetUtcNow() - at < FreshFor;

    public void Confirm(long resellerId) => _confirmed[resellerId] = clock.GetUtcNow();
}
