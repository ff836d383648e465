using System.Reflection;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Queries;
using Bridge.Contracts;
using Bridge.Host.Queries;
using Microsoft.Extensions.Options;

namespace Bridge.Tests.Queries;

/// <summary>
/// The reading both doors share (<see cref="QueryReader"/>): what a request may ask, and how each failure of ActivePlatform
/// becomes a <see cref="QueryFailure"/> — in memory, the doors' end-to-end tests being QueryGatewayTests and QueryQueueTests.
/// </summary>
public sealed class QueryReaderTests
{
    public static TheoryData<string, QueryFailure> Failures() => new()
    {
        { nameof(IncompleteListingException), QueryFailure.Incomplete },
        { nameof(ResellerNotReachableException), QueryFailure.NotReachable },
        { nameof(ActivePlatformPermanentException), QueryFailure.Refused },
        { nameof(ActivePlatformTransientException), QueryFailure.Unavailable },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task A_list_ActivePlatform_fails_to_give_whole_is_a_failure_named_for_its_cause(string exception, QueryFailure expected)
    {
        Exception thrown = exception switch
        {
            nameof(IncompleteListingException) => new IncompleteListingException("page 3 repeated the items of page 2"),
            nameof(ResellerNotReachableException) => new ResellerNotReachableException(),
            nameof(ActivePlatformPermanentException) => new ActivePlatformPermanentException("422"),
            _ => new ActivePlatformTransientException("503"),
        };
        var reader = new QueryReader(FailingQueries.Throwing(thrown), Options.Create(new ActivePlatformOptions { ResellerId = 1 }));

        var outcome = await reader.ReadAsync(new QueryActivePlatform { Query = QueryKind.Subscriptions }, CancellationToken.None);

        var failed = Assert.IsType<QueryOutcome.Failed>(outcome);
        Assert.Equal(expected, failed.Failure);
        if (expected == QueryFailure.Incomplete)
        {
            Assert.Contains("page 3 repeated", failed.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"query":0}""", "query is required")]
    [InlineData("""{"query":"accounts"}""", "accounts needs")]
    [InlineData("""{"query":"accounts","id":"abc"}""", "accounts needs")]
    [InlineData("""{"query":"currency-rates","id":"1"}""", "takes no id")]
    [InlineData("""{"query":"subscriptions","id":"1","sort":"id"}""", "go with a list")]
    [InlineData("""{"query":"orders","id":"1","include":["account"]}""", "include does not go")]
    [InlineData("""{"query":"payments","resellerId":0}""", "resellerId")]
    [InlineData("""{"query":"invoices","id":" "}""", "id must not be empty")]
    public void A_request_that_cannot_be_read_as_asked_is_refused_before_ActivePlatform_is_called(string json, string problem)
    {
        var query = System.Text.Json.JsonSerializer.Deserialize<QueryActivePlatform>(json, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;

        Assert.Contains(problem, QueryReader.Problem(query), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"query":"accounts","id":"523"}""")]
    [InlineData("""{"query":"subscriptions","include":["account"],"meta":true,"filter":{"account_id":"523"},"sort":"-id"}""")]
    [InlineData("""{"query":"invoices","id":"7","include":["charges"]}""")]
    [InlineData("""{"query":"currency-rates","resellerId":2}""")]
    public void A_well_formed_request_has_no_problem(string json)
    {
        var query = System.Text.Json.JsonSerializer.Deserialize<QueryActivePlatform>(json, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;

        Assert.Null(QueryReader.Problem(query));
    }

    /// <summary>An <see cref="IActivePlatformQueries"/> whose every read throws the one exception given.</summary>
    public class FailingQueries : DispatchProxy
    {
        private Exception failure = new InvalidOperationException("no failure set");

        public static IActivePlatformQueries Throwing(Exception failure)
        {
            var proxy = Create<IActivePlatformQueries, FailingQueries>();
            ((FailingQueries)(object)proxy).failure = failure;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => throw failure;
    }
}
