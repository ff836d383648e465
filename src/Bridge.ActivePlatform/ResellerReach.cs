using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Bridge.ActivePlatform;

/// <summary>
/// The resellers an API token was recently seen to reach. ActivePlatform may answer a reseller outside the token's
/// subtree with 404 as well as 403 (REFERENCE.md §0, undocumented), and a 404 to a lookup by key is otherwise read as
/// "there is no such document": a delete would be reported done, the document never having been looked at. So a 404 is
/// read as "absent" only for a reseller this token was confirmed to reach within <see cref="FreshFor"/>, by the monotonic
/// clock (a wall clock set back does not extend it). A confirmation is per token: a token replaced at run time starts
/// with none. A 404 that would end a message (a delete finding nothing, a write refused, a task gone) is checked afresh
/// whatever is confirmed, and a check refused withdraws the confirmation: a token narrowed in ActivePlatform is believed
/// only by the lookups that lead to another call, and only until the first such check.
/// </summary>
public sealed class ResellerReach(TimeProvider clock)
{
    /// <summary>How long a confirmation stands: long enough to cost one probe per reseller now and then, short enough that a token narrowed in ActivePlatform is noticed.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<(long Reseller, string Token), long> _confirmed = new();

    public bool IsConfirmed(long resellerId, string apiToken) =>
        _confirmed.TryGetValue((resellerId, Fingerprint(apiToken)), out var at) && clock.GetElapsedTime(at) < FreshFor;

    public void Confirm(long resellerId, string apiToken) => _confirmed[(resellerId, Fingerprint(apiToken))] = clock.GetTimestamp();

    /// <summary>ActivePlatform refused the reseller to this token: nothing it answers for the reseller is believed until a check passes again.</summary>
    public void Withdraw(long resellerId, string apiToken) => _confirmed.TryRemove((resellerId, Fingerprint(apiToken)), out _);

    /// <summary>The token is kept only as a hash.</summary>
    private static string Fingerprint(string apiToken) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiToken)));
}
