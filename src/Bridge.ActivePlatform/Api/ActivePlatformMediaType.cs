namespace Bridge.ActivePlatform.Api;

public static class ActivePlatformMediaType
{
    /// <summary>Required by the docs as both <c>Accept</c> and <c>Content-Type</c> on every v3 method.</summary>
    public const string JsonApi = "application/vnd.api+json";
}
