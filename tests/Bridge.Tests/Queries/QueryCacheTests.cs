using System.Reflection;
using System.Runtime.CompilerServices;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Queries;
using Bridge.Contracts;
using Bridge.Host.Queries;
using Bridge.Tests.Storage;
using Microsoft.Extensions.Options;

namespace Bridge.Tests.Queries;

/// <summary>
/// The opt-in cache of query answers (issue 10: "a short cache where a read is hot is a documented option, never a silent
/// one"): off unless <c>Bridge:Queries:CacheFor</c> is set, documents only, keyed by everything that shapes the answer,
/// aged by the clock, bounded.
/// </summary>
public sealed class QueryCacheTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    private static readonly QueryActivePlatform Rates = new() { Query = QueryKind.CurrencyRates };

    [Fact]
    public async Task Off_by_default_every_query_is_read_from_ActivePlatform()
    {
        var (reader, calls, _, _) = Reader(TimeSpan.Zero);

        Assert.IsType<QueryOutcome.Found>(await reader.ReadAsync(Rates, CancellationToken.None));
        Assert.IsType<QueryOutcome.Found>(await reader.ReadAsync(Rates, CancellationToken.None));

        Assert.Equal(2, calls.Count);
    }

    [Fact]
    public async Task On_the_same_query_is_answered_from_the_cache_with_its_age_until_it_expires()
    {
        var (reader, calls, clock, _) = Reader(TimeSpan.FromMinutes(1));

        var first = Assert.IsType<QueryOutcome.Found>(await reader.ReadAsync(Rates, CancellationToken.None));
        Assert.Null(first.Age);
        clock.Advance(TimeSpan.FromSeconds(20));
        var second = Assert.IsType<QueryOutcome.Found>(await reader.ReadAsync(Rates, CancellationToken.None));

        Assert.Single(calls);
        Assert.Same(first.Document, second.Document);
        Assert.Equal(TimeSpan.FromSeconds(20), second.Age);

        clock.Advance(TimeSpan.FromSeconds(40));
        var third = Assert.IsType<QueryOutcome.Found>(await reader.ReadAsync(Rates, CancellationToken.None));
        Assert.Equal(2, calls.Count);
        Assert.Null(third.Age);
    }

    [Fact]
    public async Task A_failure_is_never_kept()
    {
        var (reader, calls, _, queries) = Reader(TimeSpan.FromMinutes(1));
        queries.Failure = new ActivePlatformTransientException("503");

        Assert.IsType<QueryOutcome.Failed>(await reader.ReadAsync(Rates, CancellationToken.None));
        queries.Failure = null;
        Assert.IsType<QueryOutcome.Found>(await reader.ReadAsync(Rates, CancellationToken.None));
        Assert.IsType<QueryOutcome.Found>(await reader.ReadAsync(Rates, CancellationToken.None));

        Assert.Equal(2, calls.Count);
    }

    [Fact]
    public async Task Queries_that_differ_in_anything_that_shapes_the_answer_are_kept_apart()
    {
        var (reader, calls, _, _) = Reader(TimeSpan.FromMinutes(1));
        var payment = new QueryActivePlatform { Query = QueryKind.Payments, Id = "3006" };
        QueryActivePlatform[] distinct =
        [
            payment,
            payment with { Id = "3007" },
            payment with { ResellerId = 2 },
            payment with { Include = ["account"] },
            payment with { Include = ["account", "invoice"] },
        ];

        foreach (var query in distinct.Concat(distinct))
        {
            Assert.IsType<QueryOutcome.Found>(await reader.ReadAsync(query, CancellationToken.None));
        }

        Assert.Equal(distinct.Length, calls.Count);

        // A filter is a set: its order does not make another query; its parts cannot run into each other.
        var list = new QueryActivePlatform { Query = QueryKind.Invoices };
        Assert.Equal(
            QueryCache.KeyOf(list with { Filter = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } }, 1),
            QueryCache.KeyOf(list with { Filter = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } }, 1));
        Assert.NotEqual(
            QueryCache.KeyOf(list with { Filter = new Dictionary<string, string> { ["a"] = "1:2" } }, 1),
            QueryCache.KeyOf(list with { Filter = new Dictionary<string, string> { ["a:1"] = "2" } }, 1));
        Assert.NotEqual(QueryCache.KeyOf(list with { Sort = "id" }, 1), QueryCache.KeyOf(list with { Sort = "-id" }, 1));
        Assert.NotEqual(QueryCache.KeyOf(list with { Meta = true }, 1), QueryCache.KeyOf(list, 1));
    }

    [Fact]
    public async Task It_holds_at_most_its_bound_dropping_the_answer_closest_to_expiring()
    {
        var (reader, _, clock, _) = Reader(TimeSpan.FromMinutes(5));
        var cache = reader.Cache!;
        for (var n = 0; n < QueryCache.MaxEntries + 10; n++)
        {
            await reader.ReadAsync(new QueryActivePlatform { Query = QueryKind.Payments, Id = n.ToString(System.Globalization.CultureInfo.InvariantCulture) }, CancellationToken.None);
            clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.Equal(QueryCache.MaxEntries, cache.Count);
        Assert.Null(cache.Find(new QueryActivePlatform { Query = QueryKind.Payments, Id = "0" }, 1));
        Assert.NotNull(cache.Find(new QueryActivePlatform { Query = QueryKind.Payments, Id = (QueryCache.MaxEntries + 9).ToString(System.Globalization.CultureInfo.InvariantCulture) }, 1));
    }

    private static (CachingReader Reader, List<string> Calls, TestClock Clock, CountingQueries Queries) Reader(TimeSpan cacheFor)
    {
        var clock = new TestClock(Start);
        var calls = new List<string>();
        var queries = CountingQueries.Create(calls);
        var cache = new QueryCache(Options.Create(new QueryOptions { CacheFor = cacheFor }), clock);
        var reader = new QueryReader((IActivePlatformQueries)(object)queries, Options.Create(new ActivePlatformOptions { ResellerId = 1 }), cache);
        return (new CachingReader(reader, cache), calls, clock, queries);
    }

    private sealed record CachingReader(QueryReader Reader, QueryCache Cache)
    {
        public Task<QueryOutcome> ReadAsync(QueryActivePlatform query, CancellationToken cancellationToken) => Reader.ReadAsync(query, cancellationToken);
    }

    /// <summary>ActivePlatform's reads, each answered with a new document of its type (or <see cref="Failure"/>), counted.</summary>
    public class CountingQueries : DispatchProxy
    {
        private List<string> calls = null!;

        public Exception? Failure { get; set; }

        public static CountingQueries Create(List<string> calls)
        {
            var proxy = Create<IActivePlatformQueries, CountingQueries>();
            ((CountingQueries)(object)proxy).calls = calls;
            return (CountingQueries)(object)proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            calls.Add(targetMethod!.Name);
            if (Failure is { } failure)
            {
                throw failure;
            }

            var type = targetMethod.ReturnType.GetGenericArguments()[0];
            return typeof(Task).GetMethod(nameof(Task.FromResult))!.MakeGenericMethod(type).Invoke(null, [RuntimeHelpers.GetUninitializedObject(type)]);
        }
    }
}
