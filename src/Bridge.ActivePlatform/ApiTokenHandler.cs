using System.Net.Http.Headers;
using Bridge.ActivePlatform.Api;
using Microsoft.Extensions.Options;

namespace Bridge.ActivePlatform;

/// <summary>
/// Adds <c>X-Api-Token</c> from options (never through a Refit attribute or parameter, which Refit may capture into
/// exceptions) and the JSON:API media types. It sits inside the resilience handler, so every retry attempt gets the
/// header, and it removes the header again once the attempt is over so that a request message kept by an exception
/// or a response no longer carries the token.
/// </summary>
public sealed class ApiTokenHandler(IOptionsMonitor<ActivePlatformOptions> options) : DelegatingHandler
{
    public const string HeaderName = "X-Api-Token";

    private static readonly MediaTypeHeaderValue JsonApi = new(ActivePlatformMediaType.JsonApi);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Remove(HeaderName);
        request.Headers.TryAddWithoutValidation(HeaderName, options.CurrentValue.ApiToken);

        if (!request.Headers.Accept.Any(a => a.MediaType == ActivePlatformMediaType.JsonApi))
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ActivePlatformMediaType.JsonApi));
        }

        // The docs require Content-Type on every method, GET included; .NET only carries it on content,
        // so a bodyless request gets an empty body for a strict server to find the header on.
        request.Content ??= new ByteArrayContent([]);
        request.Content.Headers.ContentType = JsonApi;

        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            request.Headers.Remove(HeaderName);
        }
    }
}
