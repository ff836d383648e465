using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.Api;

[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface IAsyncTasksApi
{
    [Get("/api/v3/resellers/{resellerId}/async_tasks/{asyncTaskId}")]
    Task<IApiResponse<JsonApiDocument<AsyncTask>>> GetAsync(long resellerId, string asyncTaskId, CancellationToken cancellationToken);
}
