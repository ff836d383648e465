using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Bridge.Sandbox;

/// <summary>The async-mode switch, changed at run time through <c>PUT /_sandbox/async</c>.</summary>
internal sealed class AsyncModeState
{
    private readonly Lock _gate = new();
    private readonly AsyncModeSettings _configured;
    private AsyncModeSettings _current = new();
    private Regex? _keyPattern;

    public AsyncModeState(AsyncModeSettings configured)
    {
        _configured = Copy(configured);
        Set(_configured);
    }

    public AsyncModeSettings Current
    {
        get
        {
            lock (_gate)
            {
                return Copy(_current);
            }
        }
    }

    /// <exception cref="ArgumentException">The key pattern is not a valid regular expression.</exception>
    public void Set(AsyncModeSettings settings)
    {
        var pattern = settings.Mode == AsyncWriteMode.KeyPattern
            ? new Regex(settings.KeyPattern ?? throw new ArgumentException("keyPattern is required when mode is KeyPattern"), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))
            : null;
        lock (_gate)
        {
            _current = Copy(settings);
            _keyPattern = pattern;
        }
    }

    public void Reset() => Set(_configured);

    /// <summary>The settings to give a task for this write, or null when the write is answered synchronously.</summary>
    public AsyncModeSettings? Decide(string method, string key)
    {
        lock (_gate)
        {
            if (HttpMethods.IsDelete(method) && !_current.IncludeDeletes)
            {
                return null;
            }

            return _current.Mode switch
            {
                AsyncWriteMode.All => Copy(_current),
                AsyncWriteMode.KeyPattern when _keyPattern!.IsMatch(key) => Copy(_current),
                _ => null,
            };
        }
    }

    private static AsyncModeSettings Copy(AsyncModeSettings s) => new()
    {
        Mode = s.Mode,
        KeyPattern = s.KeyPattern,
        PollsToComplete = Math.Max(1, s.PollsToComplete),
        Fail = s.Fail,
        FailureMessage = s.FailureMessage,
        IncludeDeletes = s.IncludeDeletes,
    };
}

/// <summary>
/// Async tasks. A task holds the deferred write; the write runs on the poll that completes the task, under the
/// task lock, so it runs exactly once. Lock order: this store, then the closing-document store.
/// </summary>
internal sealed class AsyncTaskStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, AsyncTask> _tasks = new(StringComparer.Ordinal);

    // The results of tasks that carry their own (order attributes validation); the others report a valid, empty result.
    private readonly Dictionary<string, JsonObject> _results = new(StringComparer.Ordinal);

    /// <summary>Sets the <c>results</c> a task reports once completed.</summary>
    public void SetResults(string id, JsonObject results)
    {
        lock (_gate)
        {
            _results[id] = results;
        }
    }

    /// <summary><see cref="ToJson"/> with the task's own results, when it has any.</summary>
    public JsonObject ToJsonWithResults(SandboxAsyncTask task)
    {
        var json = ToJson(task);
        lock (_gate)
        {
            if (task.Status == "completed" && _results.TryGetValue(task.Id, out var results))
            {
                json["data"]!["attributes"]!["results"] = results.DeepClone();
            }
        }

        return json;
    }

    /// <param name="apply">The deferred write; returns a failure message, or null when it took effect.</param>
    public SandboxAsyncTask Create(int resellerId, string operation, string key, AsyncModeSettings settings, Func<string?> apply)
    {
        var task = new AsyncTask(Guid.NewGuid().ToString(), resellerId, operation, key, settings.PollsToComplete,
            settings.Fail, settings.FailureMessage, apply);
        lock (_gate)
        {
            _tasks.Add(task.Id, task);
            return task.View();
        }
    }

    /// <summary>One poll: advances the task, and on the completing poll applies (or drops) the write.</summary>
    public SandboxAsyncTask? Poll(int resellerId, string id)
    {
        lock (_gate)
        {
            if (!_tasks.TryGetValue(id, out var task) || task.ResellerId != resellerId)
            {
                return null;
            }

            task.Advance();
            return task.View();
        }
    }

    /// <summary>
    /// ActivePlatform finishes the task (its write applied when <paramref name="complete"/>) and forgets it, as it does with
    /// old tasks: polls of it are answered 404 from now on. False when there is no such task.
    /// </summary>
    public bool Expire(string id, bool complete)
    {
        lock (_gate)
        {
            if (!_tasks.TryGetValue(id, out var task))
            {
                return false;
            }

            while (complete && task.View().Status is not ("completed" or "failed"))
            {
                task.Advance();
            }

            return _tasks.Remove(id);
        }
    }

    public IReadOnlyList<SandboxAsyncTask> All()
    {
        lock (_gate)
        {
            return [.. _tasks.Values.Select(t => t.View())];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _tasks.Clear();
            _results.Clear();
        }
    }

    public static JsonObject ToJson(SandboxAsyncTask task) => new()
    {
        ["data"] = new JsonObject
        {
            ["id"] = task.Id,
            ["type"] = "async_tasks",
            ["attributes"] = new JsonObject
            {
                ["status"] = task.Status,
                ["failure_message"] = task.FailureMessage,
                ["results"] = task.Status == "completed"
                    ? new JsonObject { ["valid"] = true, ["errors"] = new JsonArray(), ["application_attributes"] = new JsonObject() }
                    : null,
            },
        },
    };

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/async_tasks/{id}", (int reseller_id, string id, AsyncTaskStore tasks) =>
            tasks.Poll(reseller_id, id) is { } task
                ? ApiJson.Document(tasks.ToJsonWithResults(task))
                : ApiJson.Error(StatusCodes.Status404NotFound, "Record not found"));
    }

    private sealed class AsyncTask(string id, int resellerId, string operation, string key, int pollsToComplete,
        bool fail, string failureMessage, Func<string?> apply)
    {
        private string _status = "pending";
        private string _failureMessage = "";
        private int _polls;

        public string Id { get; } = id;

        public int ResellerId { get; } = resellerId;

        /// <summary>Poll 1 answers pending, later polls running, poll N completed or failed; finished tasks stay put.</summary>
        public void Advance()
        {
            if (_status is "completed" or "failed")
            {
                return;
            }

            _polls++;
            if (_polls < pollsToComplete)
            {
                _status = _polls == 1 ? "pending" : "running";
                return;
            }

            var failure = fail ? failureMessage : apply();
            _status = failure is null ? "completed" : "failed";
            _failureMessage = failure ?? "";
        }

        public SandboxAsyncTask View() => new(Id, ResellerId, operation, key, _status, _failureMessage, _polls, pollsToComplete);
    }
}

/// <summary>An async task as the control API shows it.</summary>
public sealed record SandboxAsyncTask(
    string Id,
    int ResellerId,
    string Operation,
    string Key,
    string Status,
    string FailureMessage,
    int Polls,
    int PollsToComplete);
