using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.Api;

[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface ISubscriptionsApi
{
    /// <param name="filters">Complete query keys, e.g. <c>filter[account_id]</c> or <c>filter[created_at][gt]</c>.</param>
    [Get("/api/v3/resellers/{resellerId}/subscriptions")]
    Task<IApiResponse<JsonApiDocument<Subscription>>> ListAsync(
        long resellerId,
        [AliasAs("include")] string? include,
        [AliasAs("meta")] string? meta,
        [Query] IDictionary<string, string>? filters,
        [AliasAs("sort")] string? sort,
        [AliasAs("page[size]")] int? pageSize,
        [AliasAs("page[number]")] int? pageNumber,
        CancellationToken cancellationToken);
}
