using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Corrections;

/// <summary>The correction operations the pipeline calls. Every failure is an <see cref="ActivePlatformException"/>.</summary>
public interface ICorrectionsClient
{
    /// <summary>Creates a correction; ActivePlatform puts it in <c>approval_required</c>. Not idempotent on the platform side.</summary>
    Task<Correction> CreateCorrectionAsync(long resellerId, CorrectionCreate correction, CancellationToken cancellationToken);

    /// <summary>Approves or declines a correction; ActivePlatform allows it only from <c>approval_required</c>.</summary>
    Task<Correction> SetCorrectionStatusAsync(long resellerId, string correctionId, CorrectionStatus status, CancellationToken cancellationToken);
}

/// <summary>
/// Calls go through <see cref="ActivePlatformClient"/>'s error translation, so failures classify as for every other API; a
/// 404 is first checked against the reseller, which ActivePlatform may answer 404 when the token does not reach it.
/// </summary>
public sealed class CorrectionsClient(ICorrectionsApi corrections, ActivePlatformClient core) : ICorrectionsClient
{
    public async Task<Correction> CreateCorrectionAsync(long resellerId, CorrectionCreate correction, CancellationToken cancellationToken)
    {
        var body = new DataAttributesEnvelope<CorrectionWriteAttributes>
        {
            Data = new DataAttributes<CorrectionWriteAttributes> { Attributes = CorrectionWriteAttributes.From(correction) },
        };
        using var response = await core.CallAsync(ct => corrections.CreateAsync(resellerId, body, ct), cancellationToken).ConfigureAwait(false);
        await core.EnsureSuccessAsync(response, resellerId, cancellationToken).ConfigureAwait(false);
        return Single(response.Content, response.RequestMessage);
    }

    public async Task<Correction> SetCorrectionStatusAsync(long resellerId, string correctionId, CorrectionStatus status, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(correctionId);
        var body = new DataAttributesEnvelope<CorrectionStatusAttributes>
        {
            Data = new DataAttributes<CorrectionStatusAttributes>
            {
                Attributes = new CorrectionStatusAttributes { Status = status == CorrectionStatus.Approved ? "approved" : "declined" },
            },
        };
        using var response = await core.CallAsync(ct => corrections.UpdateStatusAsync(resellerId, correctionId, body, ct), cancellationToken).ConfigureAwait(false);
        await core.EnsureSuccessAsync(response, resellerId, cancellationToken).ConfigureAwait(false);
        return Single(response.Content, response.RequestMessage);
    }

    /// <summary>
    /// A 2xx that names no correction is permanent, not transient: corrections cannot be looked up, so a retry of a create
    /// that did happen would make a second one.
    /// </summary>
    private static Correction Single(JsonApiDocument<Correction>? document, HttpRequestMessage? request)
        => document?.Items.FirstOrDefault(c => !string.IsNullOrEmpty(c.Id))
           ?? throw new ActivePlatformPermanentException(
               $"ActivePlatform accepted {request?.Method} {request?.RequestUri} but its answer names no correction.",
               new ActivePlatformFailureDetails { Method = request?.Method.Method, RequestUri = request?.RequestUri });
}
