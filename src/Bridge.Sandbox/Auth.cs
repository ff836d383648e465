using System.Collections.Concurrent;
using System.Globalization;

namespace Bridge.Sandbox;

/// <summary>The reseller tree: a token reaches its reseller and everything below it.</summary>
internal sealed class ResellerDirectory
{
    private readonly Dictionary<int, int?> _parents;

    public ResellerDirectory(IEnumerable<SandboxReseller> resellers)
    {
        _parents = resellers.ToDictionary(r => r.Id, r => r.ParentId);
    }

    public IReadOnlyCollection<int> All => _parents.Keys;

    public bool Exists(int resellerId) => _parents.ContainsKey(resellerId);

    public int? ParentOf(int resellerId) => _parents.GetValueOrDefault(resellerId);

    /// <summary>Whether <paramref name="resellerId"/> is <paramref name="root"/> or one of its downstream resellers.</summary>
    public bool IsWithin(int root, int resellerId)
    {
        int? current = resellerId;
        // The hop bound guards against a cycle in a hand-written configuration.
        for (var hops = 0; current is int id && hops <= _parents.Count; hops++)
        {
            if (id == root)
            {
                return true;
            }

            current = _parents.GetValueOrDefault(id);
        }

        return false;
    }
}

/// <summary>Tokens and their scope roots; thread-safe because tests add tokens while calls run.</summary>
internal sealed class TokenRegistry
{
    private readonly IReadOnlyList<SandboxToken> _configured;
    private readonly int _configuredOutOfScopeStatus;
    private readonly ConcurrentDictionary<string, int> _scopes = new(StringComparer.Ordinal);
    private volatile int _outOfScopeStatus;

    public TokenRegistry(IReadOnlyList<SandboxToken> configured, int outOfScopeStatus)
    {
        _configured = configured;
        _configuredOutOfScopeStatus = outOfScopeStatus;
        Reset();
    }

    /// <summary>403 or 404: how a reseller outside the token's subtree is answered (<see cref="SandboxSettings.OutOfScopeStatus"/>).</summary>
    public int OutOfScopeStatus
    {
        get => _outOfScopeStatus;
        set => _outOfScopeStatus = value is StatusCodes.Status403Forbidden or StatusCodes.Status404NotFound
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "A reseller outside the token's subtree is answered 403 or 404.");
    }

    public void Add(string token, int resellerId) => _scopes[token] = resellerId;

    public bool TryGetScope(string token, out int resellerId) => _scopes.TryGetValue(token, out resellerId);

    /// <summary>Back to the configured tokens: tokens added through the control API are dropped.</summary>
    public void Reset()
    {
        OutOfScopeStatus = _configuredOutOfScopeStatus;
        _scopes.Clear();
        foreach (var token in _configured)
        {
            _scopes[token.Token] = token.ResellerId;
        }
    }
}

internal static class Auth
{
    public const string TokenHeader = "X-Api-Token";

    /// <summary>
    /// 401 for a missing or unknown token, 403 (or 404, <see cref="TokenRegistry.OutOfScopeStatus"/>) for a reseller outside the token's subtree. Neither status nor body
    /// is documented (REFERENCE.md §0); this is the inferred shape, the same errors object as documented errors.
    /// </summary>
    public static async ValueTask<object?> RequireToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var tokens = http.RequestServices.GetRequiredService<TokenRegistry>();
        var directory = http.RequestServices.GetRequiredService<ResellerDirectory>();

        var token = http.Request.Headers[TokenHeader].ToString();
        if (token.Length == 0 || !tokens.TryGetScope(token, out var root))
        {
            return ApiJson.Error(StatusCodes.Status401Unauthorized, "Unauthorized");
        }

        var resellerText = http.Request.RouteValues["reseller_id"] as string;
        if (!int.TryParse(resellerText, NumberStyles.None, CultureInfo.InvariantCulture, out var resellerId)
            || !directory.IsWithin(root, resellerId))
        {
            return tokens.OutOfScopeStatus == StatusCodes.Status404NotFound
                ? ApiJson.Error(StatusCodes.Status404NotFound, "Not Found")
                : ApiJson.Error(StatusCodes.Status403Forbidden, "Forbidden");
        }

        return await next(context);
    }
}
