using System.Text.Json.Serialization;
using Refit;

namespace Bridge.ActivePlatform;

/// <summary>The Refit settings every ActivePlatform API interface is built with.</summary>
internal static class ActivePlatformRefit
{
    public static RefitSettings Settings(JsonSerializerContext context)
    {
        var settings = RefitSettings.ForJsonContext(context);

        // Bodies are serialized before sending, so every request carries a Content-Length: streamed (chunked) bodies are
        // refused by some gateways and proxies in front of installations.
        settings.Buffered = true;

        // Refit keeps the request on its exceptions; the token handler already removed the header, this is the second lock.
        settings.ExceptionRedactor = ex => ex.RequestMessage?.Headers.Remove(ApiTokenHandler.HeaderName);
        return settings;
    }
}
