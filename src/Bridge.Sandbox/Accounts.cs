using System.Collections.Concurrent;
using System.Globalization;

namespace Bridge.Sandbox;

/// <summary>
/// Which reseller each account belongs to, so a write naming an account that does not exist, or that another reseller owns,
/// is refused as ActivePlatform would. An account belongs to the reseller the catalog seeded it for, else the one it was
/// registered for (<c>PUT /_sandbox/accounts/{id}</c>, or a control seed of a payment or invoice naming it), else the one
/// whose range (<see cref="SandboxAccountRange"/>: the defaults and <see cref="SandboxSettings.Accounts"/>) holds it.
/// Registrations are kept across <c>/_sandbox/reset</c>, like seeded invoices and corrections.
/// </summary>
internal sealed class AccountDirectory
{
    private readonly Catalog _catalog;
    private readonly ResellerDirectory _resellers;
    private readonly IReadOnlyList<SandboxAccountRange> _ranges;
    private readonly ConcurrentDictionary<long, int> _registered = new();

    public AccountDirectory(Catalog catalog, ResellerDirectory resellers, IEnumerable<SandboxAccountRange> configured)
    {
        _catalog = catalog;
        _resellers = resellers;
        _ranges = [.. SandboxAccountRange.Defaults(resellers.All.Order()), .. configured];
        foreach (var range in _ranges)
        {
            if (!resellers.Exists(range.ResellerId) || range.From <= 0 || range.To < range.From)
            {
                throw new ArgumentException($"Sandbox:Accounts: {range} names no reseller of the tree, or is not a range of positive ids.");
            }

            if (_ranges.FirstOrDefault(other => other.ResellerId != range.ResellerId && other.From <= range.To && range.From <= other.To) is { } overlap)
            {
                throw new ArgumentException($"Sandbox:Accounts: {range} overlaps {overlap}; an account belongs to one reseller.");
            }
        }
    }

    public int? OwnerOf(long accountId) =>
        _catalog.ResellerOf(accountId)
        ?? (_registered.TryGetValue(accountId, out var registered) ? registered : (int?)null)
        ?? _ranges.FirstOrDefault(r => r.Holds(accountId))?.ResellerId;

    /// <summary>
    /// Whether reseller <paramref name="resellerId"/> owns the account. Exactly this reseller: an account of a downstream
    /// reseller is written through that reseller's own path [INFERRED: the docs scope every path by reseller and say no more].
    /// </summary>
    public bool Owns(int resellerId, long accountId) => OwnerOf(accountId) == resellerId;

    /// <summary>Makes the account one of the reseller's; the reason when it cannot (another reseller owns it, no such reseller).</summary>
    public string? Register(long accountId, int resellerId)
    {
        if (!_resellers.Exists(resellerId) || accountId <= 0)
        {
            return "resellerId must be a reseller of the tree and the account id positive";
        }

        var owner = OwnerOf(accountId);
        if (owner is { } other && other != resellerId)
        {
            return string.Create(CultureInfo.InvariantCulture, $"account {accountId} belongs to reseller {other}");
        }

        _registered.TryAdd(accountId, resellerId);
        return OwnerOf(accountId) == resellerId ? null : string.Create(CultureInfo.InvariantCulture, $"account {accountId} belongs to reseller {OwnerOf(accountId)}");
    }

    /// <summary>
    /// An endpoint filter for paths under <c>accounts/{account_id}/</c>: an account the reseller does not own is answered 404
    /// before the request is looked at. [INFERRED] The docs document no answer for an unknown account; REFERENCE.md §0 infers
    /// "404 for unknown IDs" (and lists 401/403/404 bodies as not documented), and Rails — which ActivePlatform is (§8) —
    /// answers a record its <c>find</c> does not find with 404.
    /// </summary>
    public static async ValueTask<object?> RequireOwnedAccount(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var accounts = http.RequestServices.GetRequiredService<AccountDirectory>();
        var resellerId = int.Parse((string)http.Request.RouteValues["reseller_id"]!, CultureInfo.InvariantCulture);
        return long.TryParse(http.Request.RouteValues["account_id"] as string, NumberStyles.None, CultureInfo.InvariantCulture, out var accountId)
            && accounts.Owns(resellerId, accountId)
                ? await next(context)
                : UnknownInPath();
    }

    /// <summary>[INFERRED] 404 with the documented errors object, for an account named in the path.</summary>
    public static IResult UnknownInPath() => ApiJson.Error(StatusCodes.Status404NotFound, NotFound);

    /// <summary>
    /// [INFERRED] 422 "Account must exist", for an account named in a body (<c>account_id</c> of a payment or correction,
    /// <c>account_ids</c> of notifications): Rails' message for a record whose <c>belongs_to</c> is missing, in the 422 the
    /// docs show for a refused body (REFERENCE.md §0, §1.5).
    /// </summary>
    public static IResult UnknownInBody(IEnumerable<long> accountIds) =>
        ApiJson.Error(StatusCodes.Status422UnprocessableEntity, MustExist + ": " + string.Join(", ", accountIds.Select(id => id.ToString(CultureInfo.InvariantCulture))));

    public const string NotFound = "Account not found";

    public const string MustExist = "Account must exist";
}
