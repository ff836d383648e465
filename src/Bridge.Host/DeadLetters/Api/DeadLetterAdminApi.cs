using System.Text.Json;
using Bridge.Host.Admin;
using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Store;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Host.DeadLetters.Api;

/// <summary>The dead-letter routes of the admin API, under <c>/admin/dead-letters</c>. Each route declares its answers, which <see cref="AdminOpenApi"/> turns into <c>/admin/openapi.json</c>.</summary>
public static class DeadLetterAdminApi
{
    public const int DefaultPageSize = 50;

    public static RouteGroupBuilder MapDeadLetterAdmin(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var group = admin.MapGroup("/dead-letters").WithTags("Dead letters");
        const string NoSuchLetter = "No dead letter has this id.";
        const string NoSuchJob = "No replay job has this id.";
        const string WrongStatus = "Not possible in the dead letter's current status (e.g. it is being replayed right now); `deadLetterStatus` says which.";
        const string NotSent = "The broker did not take the message; the dead letter is Pending again.";

        group.MapGet("", ListAsync)
            .Describe("listDeadLetters", "List dead letters matching the filters, newest failure first, paged.")
            .Answers<DeadLetterPage>(StatusCodes.Status200OK, "OK")
            .Refuses(StatusCodes.Status400BadRequest, "A malformed filter.");
        group.MapGet("/groups", GroupsAsync)
            .Describe("groupDeadLetters", "Count the matching dead letters by failure cause (exception type + normalised message).")
            .Answers<IReadOnlyList<DeadLetterGroup>>(StatusCodes.Status200OK, "Groups, largest first.")
            .Refuses(StatusCodes.Status400BadRequest, "A malformed filter.");
        group.MapGet("/{id:guid}", ShowAsync)
            .Describe("showDeadLetter", "One dead letter: body, headers, failure, status and audit trail.")
            .Answers<DeadLetterView>(StatusCodes.Status200OK, "OK")
            .Refuses(StatusCodes.Status404NotFound, NoSuchLetter);
        group.MapGet("/replay-jobs", async (int? limit, ReplayJobs jobs, CancellationToken cancellationToken) =>
                limit is < 1 or > 500
                    ? BadRequest("limit must be between 1 and 500.")
                    : Results.Ok(await jobs.ListAsync(limit ?? 50, cancellationToken)))
            .Describe("listReplayJobs", "The most recent replay jobs of every instance, newest first; a job whose instance stopped or died is Interrupted.")
            .Answers<IReadOnlyList<ReplayJobProgress>>(StatusCodes.Status200OK, "OK")
            .Refuses(StatusCodes.Status400BadRequest, "limit out of range.");
        group.MapGet("/replay-jobs/{jobId:guid}", async (Guid jobId, ReplayJobs jobs, CancellationToken cancellationToken) =>
                await jobs.GetAsync(jobId, cancellationToken) is { } progress ? Results.Ok(progress) : NotFound(NoSuchJob))
            .Describe("getReplayJob", "Progress of a replay job started on any instance (jobs are kept in the database).")
            .Answers<ReplayJobProgress>(StatusCodes.Status200OK, "OK")
            .Refuses(StatusCodes.Status404NotFound, NoSuchJob);

        var act = group.MapGroup("")
            .RequireAuthorization(AdminPolicies.Operate)
            .Refuses(StatusCodes.Status403Forbidden, "The token is read-only.");
        act.MapPost("/{id:guid}/replay", async (Guid id, HttpContext http, DeadLetterOperations operations, CancellationToken cancellationToken) =>
                ToResult(await operations.ReplayAsync(id, http.Caller().Name, null, cancellationToken)))
            .Describe(
                "replayDeadLetter",
                "Send a Pending dead letter back to its original queue with its original body, headers and message id.",
                "A replay guard makes the dead letter Replaying while it is sent, so two replays of one dead letter never run at once (the second " +
                "gets 409). The message keeps its idempotency key, so replaying something that had in fact succeeded has no second effect. If the " +
                "replayed message fails again it becomes Pending again with its failure count raised.")
            .Answers<DeadLetterActionResult>(StatusCodes.Status200OK, "Done.")
            .Refuses(StatusCodes.Status404NotFound, NoSuchLetter)
            .Refuses(StatusCodes.Status409Conflict, WrongStatus)
            .Refuses(StatusCodes.Status503ServiceUnavailable, NotSent);
        act.MapPost("/{id:guid}/discard", async (Guid id, DiscardRequest? request, HttpContext http, DeadLetterOperations operations, CancellationToken cancellationToken) =>
                string.IsNullOrWhiteSpace(request?.Reason)
                    ? BadRequest("A reason is required to discard a dead letter.")
                    : ToResult(await operations.DiscardAsync(id, request.Reason.Trim(), http.Caller().Name, cancellationToken)))
            .Describe("discardDeadLetter", "Archive a Pending or Replayed dead letter with a reason.")
            .Answers<DeadLetterActionResult>(StatusCodes.Status200OK, "Done.")
            .Refuses(StatusCodes.Status400BadRequest, "No reason given.")
            .Refuses(StatusCodes.Status404NotFound, NoSuchLetter)
            .Refuses(StatusCodes.Status409Conflict, WrongStatus);
        act.MapPost("/{id:guid}/restore", async (Guid id, HttpContext http, DeadLetterOperations operations, CancellationToken cancellationToken) =>
                ToResult(await operations.RestoreAsync(id, http.Caller().Name, cancellationToken)))
            .Describe("restoreDeadLetter", "Make a Discarded dead letter Pending again.")
            .Answers<DeadLetterActionResult>(StatusCodes.Status200OK, "Done.")
            .Refuses(StatusCodes.Status404NotFound, NoSuchLetter)
            .Refuses(StatusCodes.Status409Conflict, WrongStatus);
        act.MapPost("/{id:guid}/edit-and-replay", async (Guid id, EditRequest? request, HttpContext http, DeadLetterOperations operations, CancellationToken cancellationToken) =>
                request is null || request.Body.ValueKind == JsonValueKind.Undefined
                    ? BadRequest("Send the edited message as {\"body\": {...}}.")
                    : ToResult(await operations.EditAndReplayAsync(id, request.Body, http.Caller().Name, cancellationToken)))
            .Describe(
                "editAndReplayDeadLetter",
                "Send a corrected body as a new message linked to the original, and archive the original.",
                "Off unless `Bridge:DeadLetters:AllowEditAndReplay` is true (404 otherwise). The body is checked against the message's contract; " +
                "the new message gets a new message id, the header `Bridge-Edited-From: <dead letter id>`, and goes to the original queue as plain " +
                "JSON. The original becomes Discarded with the new message id as its reason.")
            .Answers<DeadLetterActionResult>(StatusCodes.Status200OK, "Done.")
            .Refuses(StatusCodes.Status400BadRequest, "No body given.")
            .Refuses(StatusCodes.Status404NotFound, "No dead letter has this id, or edit-and-replay is off.")
            .Refuses(StatusCodes.Status409Conflict, WrongStatus)
            .Refuses(StatusCodes.Status422UnprocessableEntity, "The body does not satisfy the contract; `errors` lists why.")
            .Refuses(StatusCodes.Status503ServiceUnavailable, NotSent);
        act.MapPost("/replay", StartReplayAsync)
            .Describe(
                "startReplayJob",
                "Replay a selection, or every Pending dead letter matching a filter (e.g. a whole group), in the background.",
                "The set is fixed when the job starts (at most `Bridge:DeadLetters:MaxReplayJobSize`, 10 000 by default). Dead letters are replayed one at a time " +
                "through the same guard as a single replay, in batches of `batchSize`, at most `ratePerSecond` per second. Watch progress at " +
                "the `Location` returned.")
            .Answers<ReplayJobProgress>(StatusCodes.Status202Accepted, "Started.")
            .Refuses(StatusCodes.Status400BadRequest, "Neither or both of ids and filter, or a bad batch size or rate.");
        act.MapPost("/replay-jobs/{jobId:guid}/cancel", async (Guid jobId, ReplayJobs jobs, CancellationToken cancellationToken) =>
                await jobs.CancelAsync(jobId, cancellationToken) is { } progress ? Results.Ok(progress) : NotFound(NoSuchJob))
            .Describe(
                "cancelReplayJob",
                "Stop a replay job after the dead letter it is on: at once on the instance running it, else at that instance's next progress write.")
            .Answers<ReplayJobProgress>(StatusCodes.Status200OK, "OK")
            .Refuses(StatusCodes.Status404NotFound, NoSuchJob);
        return group;
    }

    /// <summary>Filters as query parameters: <c>?status=Pending&amp;messageType=…&amp;queue=…&amp;key=…&amp;exceptionType=…&amp;group=…&amp;text=…&amp;from=…&amp;to=…</c>.</summary>
    /// <param name="Status">Pending, Replaying, Replayed or Discarded.</param>
    /// <param name="MessageType">The message's contract name, e.g. <c>SendClosingDocument</c>.</param>
    /// <param name="Queue">The queue the message failed on.</param>
    /// <param name="Key">The ERP key (document key, payment id, …) the message carries.</param>
    /// <param name="ExceptionType">The failure's exception type, e.g. <c>ActivePlatformServerException</c>.</param>
    /// <param name="Group">A failure group as <c>groups</c> lists it.</param>
    /// <param name="Text">Text anywhere in the failure message or the body.</param>
    /// <param name="From">Last failed at or after this time.</param>
    /// <param name="To">Last failed before this time.</param>
    public sealed record FilterQuery(
        [FromQuery(Name = "status")] string? Status,
        [FromQuery(Name = "messageType")] string? MessageType,
        [FromQuery(Name = "queue")] string? Queue,
        [FromQuery(Name = "key")] string? Key,
        [FromQuery(Name = "exceptionType")] string? ExceptionType,
        [FromQuery(Name = "group")] string? Group,
        [FromQuery(Name = "text")] string? Text,
        [FromQuery(Name = "from")] DateTimeOffset? From,
        [FromQuery(Name = "to")] DateTimeOffset? To)
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
