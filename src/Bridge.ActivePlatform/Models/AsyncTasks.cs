using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.ActivePlatform.Models;

/// <summary>An asynchronous task (<c>async_tasks</c>): pending → running → completed | failed. Its id is an opaque string (a UUID in the docs).</summary>
public sealed record AsyncTask : JsonApiResource
{
    public AsyncTaskAttributes Attributes { get; init; } = new();

    [JsonIgnore]
    public AsyncTaskState State => AsyncTaskStates.Parse(Attributes.Status);
}

public sealed record AsyncTaskAttributes
{
    /// <summary><c>pending</c>, <c>running</c>, <c>completed</c> or <c>failed</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Set when the task failed; <c>""</c> otherwise.</summary>
    public string? FailureMessage { get; init; }

    public AsyncTaskResults? Results { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record AsyncTaskResults
{
    public bool? Valid { get; init; }

    /// <summary>Keys of additional attributes and error descriptions when <see cref="Valid"/> is false (shape varies by plugin).</summary>
    public JsonElement? Errors { get; init; }

    public JsonElement? ApplicationAttributes { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public enum AsyncTaskState
{
    /// <summary>A status this client does not know; treated as still in progress.</summary>
    Unknown,
    Pending,
    Running,
    Completed,
    Failed,
}

public static class AsyncTaskStates
{
    public static AsyncTaskState Parse(string? status) => status?.Trim().ToUpperInvariant() switch
    {
        "PENDING" => AsyncTaskState.Pending,
        "RUNNING" => AsyncTaskState.Running,
        "COMPLETED" => AsyncTaskState.Completed,
        "FAILED" => AsyncTaskState.Failed,
        _ => AsyncTaskState.Unknown,
    };

    public static bool IsFinished(this AsyncTaskState state) => state is AsyncTaskState.Completed or AsyncTaskState.Failed;
}
