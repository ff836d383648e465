using System.Data.Common;
using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Host.Ingress;

/// <summary>One message submitted over HTTP: who sent it, what it is, and whether the broker confirmed it.</summary>
public sealed record IngressSubmission(
    string IdempotencyKey,
    string MessageType,
    string Fingerprint,
    string Client,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ConfirmedAt);

/// <summary>The latest result event written for a message (from the outbox, until its retention purges it).</summary>
public sealed record IngressResultEvent(string MessageType, string Body, DateTimeOffset CreatedAt, DateTimeOffset? DispatchedAt);

/// <summary>The latest dead letter kept under a message's key, with the body it holds (to tell whether it is that message).</summary>
public sealed record IngressDeadLetter(Guid Id, string Status, string ExceptionType, string Reason, DateTimeOffset FirstFailedAt, DateTimeOffset LastFailedAt)
{
    /// <summary>Why it is in its status (e.g. <c>Edited and replayed as message …</c>).</summary>
    public string? StatusReason { get; init; }

    /// <summary>The body as captured: UTF-8 text (or MassTransit's envelope on the in-memory transport); null when it was not UTF-8.</summary>
    public string? Body { get; init; }

    public string? ContentType { get; init; }
}

/// <summary>The HTTP door's submissions, and what a status lookup reads of the outbox and the dead letters.</summary>
public sealed class IngressStore(IBridgeDatabase database, TimeProvider clock)
{
    private readonly IngressSql sql = IngressSql.For(database.Dialect);
    private readonly SqlDialect dialect = database.Dialect;

    /// <summary>
    /// Records the submission, or returns the one already recorded for its key (of two concurrent callers with one key,
    /// exactly one gets <c>IsNew = true</c>).
    /// </summary>
    public async Task<(IngressSubmission Submission, bool IsNew)> RecordAsync(string idempotencyKey, string messageType, string fingerprint, string client, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        bool inserted;
        try
        {
            inserted = await connection.ExecuteAsync(new CommandDefinition(
                sql.Insert,
                new { IdempotencyKey = idempotencyKey, MessageType = messageType, Fingerprint = fingerprint, Client = client, Now = SqlValues.Timestamp(dialect, now) },
                cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;
        }
        catch (DbException exception) when (SqlValues.IsUniqueViolation(exception))
        {
            inserted = false;
        }

        if (inserted)
        {
            return (new IngressSubmission(idempotencyKey, messageType, fingerprint, client, now, null), true);
        }

        var existing = await FindAsync(connection, idempotencyKey, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Submission '{idempotencyKey}' vanished right after it was found (purged concurrently?).");
        return (existing, false);
    }

    public async Task ConfirmAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            sql.Confirm, new { IdempotencyKey = idempotencyKey, Now = SqlValues.Timestamp(dialect, clock.GetUtcNow()) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IngressSubmission?> FindAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        return await FindAsync(connection, idempotencyKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The latest event that answers the message: its outcome (<paramref name="deadLettered"/> false) or its dead letter.</summary>
    public async Task<IngressResultEvent?> LatestEventAsync(string idempotencyKey, bool deadLettered, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition(
            deadLettered ? sql.SelectLatestDeadLetterEvent : sql.SelectLatestEvent, new { IdempotencyKey = idempotencyKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null
            ? null
            : new IngressResultEvent(row.MessageType, row.Body, SqlValues.ReadTimestamp(row.CreatedAt!), row.DispatchedAt is null ? null : SqlValues.ReadTimestamp(row.DispatchedAt));
    }

    /// <summary>
    /// The latest dead letter of the message: by its message id, or else the one its latest <c>ErpMessageDeadLettered</c>
    /// names (while the outbox keeps that event).
    /// </summary>
    public async Task<IngressDeadLetter?> LatestDeadLetterAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<DeadLetterRow>(new CommandDefinition(
            sql.SelectLatestDeadLetter, new { IdempotencyKey = idempotencyKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is null)
        {
            var announced = await connection.QuerySingleOrDefaultAsync<EventRow>(new CommandDefinition(
                sql.SelectLatestDeadLetterEvent, new { IdempotencyKey = idempotencyKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (announced is not null && DeadLetterIdOf(announced.Body) is { } id)
            {
                row = await connection.QuerySingleOrDefaultAsync<DeadLetterRow>(new CommandDefinition(
                    sql.SelectDeadLetterById, new { Id = SqlValues.Id(dialect, id) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
        }

        return row is null
            ? null
            : new IngressDeadLetter(
                SqlValues.ReadId(row.Id!), row.Status, row.ExceptionType, row.Reason, SqlValues.ReadTimestamp(row.FirstFailedAt!), SqlValues.ReadTimestamp(row.LastFailedAt!))
            {
                StatusReason = row.StatusReason,
                Body = row.BodyEncoding == "utf8" ? row.Body : null,
                ContentType = row.ContentType,
            };
    }

    private static Guid? DeadLetterIdOf(string body)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("deadLetterId", out var id) && id.TryGetGuid(out var value) ? value : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Deletes submissions older than <paramref name="olderThan"/>, a batch at a time; returns how many.</summary>
    public Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) =>
        SqlPurge.InBatchesAsync(database, sql.Purge, olderThan, cancellationToken);

    private async Task<IngressSubmission?> FindAsync(DbConnection connection, string idempotencyKey, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<SubmissionRow>(new CommandDefinition(
            sql.Select, new { IdempotencyKey = idempotencyKey }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row is null
            ? null
            : new IngressSubmission(
                row.IdempotencyKey, row.MessageType, row.Fingerprint, row.Client, SqlValues.ReadTimestamp(row.CreatedAt!),
                row.ConfirmedAt is null ? null : SqlValues.ReadTimestamp(row.ConfirmedAt));
    }

    private sealed class SubmissionRow
    {
        public string IdempotencyKey { get; set; } = "";

        public string MessageType { get; set; } = "";

        public string Fingerprint { get; set; } = "";

        public string Client { get; set; } = "";

        public object? CreatedAt { get; set; }

        public object? ConfirmedAt { get; set; }
    }

    private sealed class EventRow
    {
        public string MessageType { get; set; } = "";

        public string Body { get; set; } = "";

        public object? CreatedAt { get; set; }

        public object? DispatchedAt { get; set; }
    }

    private sealed class DeadLetterRow
    {
        public object? Id { get; set; }

        public string Status { get; set; } = "";

        public string ExceptionType { get; set; } = "";

        public string Reason { get; set; } = "";

        public string? StatusReason { get; set; }

        public object? FirstFailedAt { get; set; }

        public object? LastFailedAt { get; set; }

        public string? Body { get; set; }

        public string BodyEncoding { get; set; } = "";

        public string? ContentType { get; set; }
    }
}
