using System.Globalization;
using System.Text;
using Bridge.Contracts;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Queries;

/// <summary>
/// The opt-in cache of query answers (<c>Bridge:Queries:CacheFor</c>, off by default): a document ActivePlatform gave is kept
/// that long and given again to the same query from either door — HTTP (with <c>Age</c>) or the query queue. Only
/// documents, never failures; keyed by everything that shapes the answer (reseller, query, id, include, meta, filter,
/// sort). Bounded: at most <see cref="MaxEntries"/> answers, the ones closest to expiring going first.
/// </summary>
public sealed class QueryCache(IOptions<QueryOptions> options, TimeProvider clock)
{
    /// <summary>The most answers kept at once.</summary>
    public const int MaxEntries = 1024;

    private readonly Lock gate = new();
    private readonly Dictionary<string, (QueryOutcome.Found Found, DateTimeOffset StoredAt, DateTimeOffset Expires)> entries = new(StringComparer.Ordinal);

    public bool Enabled => options.Value.CacheFor > TimeSpan.Zero;

    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    /// <summary>The kept answer to <paramref name="query"/> read as <paramref name="reseller"/>, with its age; null when none is fresh.</summary>
    public QueryOutcome.Found? Find(QueryActivePlatform query, long reseller)
    {
        if (!Enabled)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var key = KeyOf(query, reseller);
        lock (gate)
        {
            if (!entries.TryGetValue(key, out var entry))
            {
                return null;
            }

            if (entry.Expires <= now)
            {
                entries.Remove(key);
                return null;
            }

            return entry.Found with { Age = now - entry.StoredAt };
        }
    }

    /// <summary>Keeps <paramref name="found"/> as the answer to <paramref name="query"/> for <c>CacheFor</c>.</summary>
    public void Store(QueryActivePlatform query, long reseller, QueryOutcome.Found found)
    {
        ArgumentNullException.ThrowIfNull(found);
        var cacheFor = options.Value.CacheFor;
        if (cacheFor <= TimeSpan.Zero)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var key = KeyOf(query, reseller);
        lock (gate)
        {
            if (!entries.ContainsKey(key) && entries.Count >= MaxEntries)
            {
                MakeRoom(now);
            }

            entries[key] = (found with { Age = null }, now, now + cacheFor);
        }
    }

    /// <summary>Drops what expired; if every answer is still fresh, the one closest to expiring.</summary>
    private void MakeRoom(DateTimeOffset now)
    {
        foreach (var expired in entries.Where(e => e.Value.Expires <= now).Select(e => e.Key).ToList())
        {
            entries.Remove(expired);
        }

        if (entries.Count >= MaxEntries)
        {
            entries.Remove(entries.MinBy(e => e.Value.Expires).Key);
        }
    }

    /// <summary>Everything that shapes the answer, each part length-prefixed so no two queries share a key.</summary>
    public static string KeyOf(QueryActivePlatform query, long reseller)
    {
        ArgumentNullException.ThrowIfNull(query);
        var key = new StringBuilder();
        void Part(string? value) => key.Append(value is null ? "-1:" : string.Create(CultureInfo.InvariantCulture, $"{value.Length}:{value}"));
        Part(reseller.ToString(CultureInfo.InvariantCulture));
        Part(QueryReader.WireName(query.Query));
        Part(query.Id);
        Part(query.Include is null ? null : string.Join(',', query.Include));
        Part(query.Meta?.ToString(CultureInfo.InvariantCulture));
        Part(query.Sort);
        foreach (var (name, value) in (query.Filter ?? new Dictionary<string, string>()).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            Part(name);
            Part(value);
        }

        return key.ToString();
    }
}
