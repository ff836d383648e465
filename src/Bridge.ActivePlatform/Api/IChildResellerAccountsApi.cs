using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.Api;

[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface IChildResellerAccountsApi
{
    [Get("/api/v3/resellers/{resellerId}/child_reseller_accounts/{accountId}")]
    Task<IApiResponse<JsonApiDocument<Account>>> GetAsync(long resellerId, long accountId, CancellationToken cancellationToken);
}
