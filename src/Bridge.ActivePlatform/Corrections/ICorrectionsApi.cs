using Bridge.ActivePlatform.Api;
using Bridge.ActivePlatform.Models;
using Refit;

namespace Bridge.ActivePlatform.Corrections;

/// <summary>Corrections (REFERENCE.md §4): create, and change the status of one awaiting approval. Both use envelope style A.</summary>
[Headers("Accept: " + ActivePlatformMediaType.JsonApi)]
public interface ICorrectionsApi
{
    [Post("/api/v3/resellers/{resellerId}/corrections")]
    Task<IApiResponse<JsonApiDocument<Correction>>> CreateAsync(
        long resellerId, [Body] DataAttributesEnvelope<CorrectionWriteAttributes> body, CancellationToken cancellationToken);

    [Patch("/api/v3/resellers/{resellerId}/corrections/{correctionId}")]
    Task<IApiResponse<JsonApiDocument<Correction>>> UpdateStatusAsync(
        long resellerId, string correctionId, [Body] DataAttributesEnvelope<CorrectionStatusAttributes> body, CancellationToken cancellationToken);
}
