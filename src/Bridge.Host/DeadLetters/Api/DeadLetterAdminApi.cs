using System.Text.Json;
using Bridge.Host.Admin;
using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Store;

namespace Bridge.Host.DeadLetters.Api;

/// <summary>The dead-letter routes of the admin API, under <c>/admin/dead-letters</c>. Described in <c>/admin/openapi.json</c>.</summary>
public static class DeadLetterAdminApi
{
    public const int DefaultPageSize = 50;

    public static RouteGroupBuilder MapDeadLetterAdmin(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var group = admin.MapGroup("/dead-letters");

        group.MapGet("", ListAsync);
        group.MapGet("/groups", GroupsAsync);
        group.MapGet("/{id:guid}", ShowAsync);
        group.MapGet("/replay-jobs", async (int? limit, ReplayJobs jobs, CancellationToken cancellationToken) =>
            limit is < 1 or > 500
                ? BadRequest("limit must be between 1 and 500.")
                : Results.Ok(await jobs.ListAsync(limit ?? 50, cancellationToken)));
        group.MapGet("/replay-jobs/{jobId:guid}", async (Guid jobId, ReplayJobs jobs, CancellationToken cancellationToken) =>
            await jobs.GetAsync(jobId, cancellationToken) is { } progress ? Results.Ok(progress) : NotFound("No replay job has this id."));

        var act = group.MapGroup("").RequireAuthorization(AdminPolicies.Operate);
        act.MapPost("/{id:guid}/replay", async (Guid id, HttpContext http, DeadLetterOperations operations, CancellationToken cancellationToken) =>
            ToResult(await operations.ReplayAsync(id, http.Caller().Name, null, cancellationToken)));
        act.MapPost("/{id:guid}/discard", async (Guid id, DiscardRequest? request, HttpContext http, DeadLetterOperations operations, CancellationToken cancellationToken) =>
            string.IsNullOrWhiteSpace(request?.Reason)
                ? BadRequest("A reason is required to discard a dead letter.")
                : ToResult(await operations.DiscardAsync(id, request.Reason.Trim(), http.Caller().Name, cancellationToken)));
        act.MapPost("/{id:guid}/restore", async (Guid id, HttpContext http, DeadLetterOperations operations, CancellationToken cancellationToken) =>
            ToResult(await operations.RestoreAsync(id, http.Caller().Name, cancellationToken)));
        act.MapPost("/{id:guid}/edit-and-replay", async (Guid id, EditRequest? request, HttpContext http, DeadLetterOperations operations, CancellationToken cancellationToken) =>
            request is null || request.Body.ValueKind == JsonValueKind.Undefined
                ? BadRequest("Send the edited message as {\"body\": {...}}.")
                : ToResult(await operations.EditAndReplayAsync(id, request.Body, http.Caller().Name, cancellationToken)));
        act.MapPost("/replay", StartReplayAsync);
        act.MapPost("/replay-jobs/{jobId:guid}/cancel", async (Guid jobId, ReplayJobs jobs, CancellationToken cancellationToken) =>
            await jobs.CancelAsync(jobId, cancellationToken) is { } progress ? Results.Ok(progress) : NotFound("No replay job has this id."));
        return group;
    }

    /// <summary>Filters as query parameters: <c>?status=Pending&amp;messageType=…&amp;queue=…&amp;key=…&amp;exceptionType=…&amp;group=…&amp;text=…&amp;from=…&amp;to=…</c>.</summary>
    public sealed record FilterQuery(
        string? Status,
        string? MessageType,
        string? Queue,
        string? Key,
        string? ExceptionType,
        string? Group,
        string? Text,
        DateTimeOffset? From,
        DateTimeOffset? To)
    {
        public bool TryToFilter(out DeadLetterFilter filter, out string? error)
        {
            filter = new DeadLetterFilter();
            error = null;
            DeadLetterStatus? status = null;
            if (!string.IsNullOrWhiteSpace(Status))
            {
                if (!Enum.TryParse<DeadLetterStatus>(Status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                {
                    error = $"status must be one of {string.Join(", ", Enum.GetNames<DeadLetterStatus>())}.";
                    return false;
                }

                status = parsed;
            }

            filter = new DeadLetterFilter(status, MessageType, Queue, Key, ExceptionType, Group, Text, From, To);
            return true;
        }
    }

    public sealed record DiscardRequest(string? Reason);

    public sealed record EditRequest(JsonElement Body);

    public sealed record BulkReplayRequest(IReadOnlyList<Guid>? Ids, FilterQuery? Filter, int? BatchSize, double? RatePerSecond);

    /// <summary>One dead letter as the API shows it: the message, its failure, its status and every action taken on it.</summary>
    public sealed record DeadLetterView(
        Guid Id,
        string SourceQueue,
        string MessageType,
        string? MessageId,
        string? ErpKey,
        string? CorrelationId,
        string? ContentType,
        string Body,
        string BodyEncoding,
        IReadOnlyDictionary<string, string?> Headers,
        string ExceptionType,
        string ExceptionMessage,
        string? StackTrace,
        string FailureGroup,
        string NormalizedMessage,
        int AttemptCount,
        int FailureCount,
        DateTimeOffset FirstFailedAt,
        DateTimeOffset LastFailedAt,
        DeadLetterStatus Status,
        string? StatusReason,
        int ReplayCount,
        string? ReplayClaimedBy,
        DateTimeOffset? ReplayClaimExpiresAt,
        DateTimeOffset UpdatedAt,
        IReadOnlyList<DeadLetterAuditEntry> Audit)
    {
        public static DeadLetterView From(DeadLetterDetails details)
        {
            ArgumentNullException.ThrowIfNull(details);
            var (letter, s) = (details.Letter, details.Letter.Summary);
            return new DeadLetterView(
                s.Id, s.SourceQueue, s.MessageType, s.MessageId, s.ErpKey, letter.CorrelationId, letter.ContentType, letter.Body.Text,
                letter.Body.Encoding, letter.Headers, s.ExceptionType, s.ExceptionMessage, letter.StackTrace, s.FailureGroup, letter.NormalizedMessage,
                s.AttemptCount, s.FailureCount, s.FirstFailedAt, s.LastFailedAt, s.Status, s.StatusReason, s.ReplayCount, letter.ReplayClaimedBy,
                letter.ReplayClaimExpiresAt, letter.UpdatedAt, details.Audit);
        }
    }

    private static async Task<IResult> ListAsync(
        [AsParameters] FilterQuery query, int? page, int? pageSize, IDeadLetterStore store, CancellationToken cancellationToken)
    {
        if (!query.TryToFilter(out var filter, out var error))
        {
            return BadRequest(error!);
        }

        var size = pageSize ?? DefaultPageSize;
        if (page is < 1 || size is < 1 or > SqlDeadLetterStore.MaxPageSize)
        {
            return BadRequest($"page must be 1 or more and pageSize between 1 and {SqlDeadLetterStore.MaxPageSize}.");
        }

        return Results.Ok(await store.QueryAsync(filter, page ?? 1, size, cancellationToken));
    }

    private static async Task<IResult> GroupsAsync([AsParameters] FilterQuery query, IDeadLetterStore store, CancellationToken cancellationToken) =>
        query.TryToFilter(out var filter, out var error)
            ? Results.Ok(await store.GroupsAsync(filter, cancellationToken))
            : BadRequest(error!);

    private static async Task<IResult> ShowAsync(Guid id, IDeadLetterStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(id, cancellationToken) is { } details
            ? Results.Ok(DeadLetterView.From(details))
            : NotFound("No dead letter has this id.");

    private static async Task<IResult> StartReplayAsync(BulkReplayRequest? request, HttpContext http, ReplayJobs jobs, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return BadRequest("Send {\"ids\": [...]} or {\"filter\": {...}}, with optional batchSize and ratePerSecond.");
        }

        DeadLetterFilter? filter = null;
        if (request.Filter is { } query && !query.TryToFilter(out filter, out var error))
        {
            return BadRequest(error!);
        }

        try
        {
            var progress = await jobs.StartAsync(new ReplayRequest(request.Ids, filter, request.BatchSize, request.RatePerSecond), http.Caller().Name, cancellationToken);
            return Results.Accepted($"/admin/dead-letters/replay-jobs/{progress.Id:D}", progress);
        }
        catch (ArgumentException ex)
        {
            return BadRequest(ex.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static IResult ToResult(DeadLetterActionResult result) => result.Outcome switch
    {
        DeadLetterActionOutcome.Done => Results.Ok(result),
        DeadLetterActionOutcome.NotFound => NotFound(result.Detail ?? "No dead letter has this id."),
        DeadLetterActionOutcome.Disabled => NotFound(result.Detail ?? "Not enabled."),
        DeadLetterActionOutcome.Conflict => Results.Problem(
            statusCode: StatusCodes.Status409Conflict, title: "Not possible in the dead letter's current status", detail: result.Detail,
            extensions: new Dictionary<string, object?> { ["deadLetterStatus"] = result.Status?.ToString() }),
        DeadLetterActionOutcome.SendFailed => Results.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable, title: "The broker did not take the message", detail: result.Detail),
        DeadLetterActionOutcome.Invalid => Results.Problem(
            statusCode: StatusCodes.Status422UnprocessableEntity, title: "The edited body does not satisfy the message's contract", detail: result.Detail,
            extensions: new Dictionary<string, object?> { ["errors"] = result.Errors }),
        _ => throw new InvalidOperationException($"Unknown outcome {result.Outcome}."),
    };

    private static IResult BadRequest(string detail) => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);

    private static IResult NotFound(string detail) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);
}
