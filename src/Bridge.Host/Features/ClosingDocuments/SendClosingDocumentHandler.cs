using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Models;
using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>
/// Create-or-update by the ERP's key: look the document up by <c>filter[key]</c>, POST when absent, PATCH when present.
/// A version older than the one applied is skipped; an async answer is polled to its end from a stored task id.
/// </summary>
public sealed class SendClosingDocumentHandler(
    IdempotentExecutor executor,
    IActivePlatformClient activePlatform,
    ActivePlatformAsyncTaskPoller poller,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    IOptions<ClosingDocumentOptions> options,
    TimeProvider clock) : ICommandHandler<SendClosingDocumentCommand, HandlingOutcome>
{
    public async ValueTask<HandlingOutcome> Handle(SendClosingDocumentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;
        var errors = ClosingDocumentValidation.Validate(message, options.Value.MaxFileBytes);
        errors.AddRange(IdempotencyKeys.Validate(incoming.IdempotencyKey));

        if (errors.Count > 0)
        {
            await executor.RejectInvalidAsync(Rejected(message, incoming, Rejection.Invalid(errors)), incoming, message, cancellationToken);
            return HandlingOutcome.Rejected;
        }

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        var version = DocumentVersion.Of(message);
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = ClosingDocumentScope.Of(resellerId, message.AccountId),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message, incoming, rejection),
            Apply = (context, ct) => ApplyAsync(context, message, incoming, resellerId, version, ct),
        }, cancellationToken);
    }

    private async Task<WorkResult> ApplyAsync(WorkContext context, SendClosingDocument message, IncomingMessage incoming, long resellerId, string version, CancellationToken cancellationToken)
    {
        if (DocumentVersion.IsOlder(version, context.Document?.AppliedVersion))
        {
            var skipped = new ClosingDocumentSkipped
            {
                Key = message.Key,
                MessageId = incoming.IdempotencyKey!,
                CorrelationId = incoming.CorrelationId,
                OccurredAt = clock.GetUtcNow(),
                AccountId = message.AccountId,
                ExternalInvoiceId = context.Document?.ResourceId,
                SkippedVersion = DocumentVersion.Describe(version),
                AppliedVersion = DocumentVersion.Describe(context.Document!.AppliedVersion!),
            };
            return new WorkResult(HandlingOutcome.Skipped, skipped, context.Document.ResourceId, null);
        }

        var (outcome, id) = await WriteAsync(context, message, resellerId, cancellationToken);
        var sent = new ClosingDocumentSent
        {
            Key = message.Key,
            MessageId = incoming.IdempotencyKey!,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            ResellerId = resellerId,
            AccountId = message.AccountId,
            ExternalInvoiceId = id,
            Outcome = outcome,
            Revision = message.Revision,
            ModifiedAt = message.ModifiedAt,
        };
        return new WorkResult(HandlingOutcome.Applied, sent, id, new DocumentChange(version, id, Deleted: false));
    }

    private async Task<(ClosingDocumentWriteOutcome Outcome, string Id)> WriteAsync(WorkContext context, SendClosingDocument message, long resellerId, CancellationToken cancellationToken)
    {
        // A restart after an async write resumes polling the stored task instead of writing again.
        if (PendingWrite.TryParse(context.Record.PendingAsyncTaskId, out var pending))
        {
            return (pending.Outcome, await AwaitAsyncWriteAsync(resellerId, message, pending.TaskId, cancellationToken));
        }

        var body = ClosingDocumentMapping.ToWrite(message);
        var existing = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken);
        var outcome = existing is null ? ClosingDocumentWriteOutcome.Created : ClosingDocumentWriteOutcome.Updated;
        if (existing is null)
        {
            // A create sent by an earlier attempt whose answer was lost may have been an async task: its document appears
            // only when the task completes. Until the polling deadline has passed, wait for it rather than create twice.
            var deadline = activePlatformOptions.Value.AsyncTaskPolling.Deadline;
            if (CreateSent.TryParse(context.Record.PendingAsyncTaskId, out var sentAt) && clock.GetUtcNow() - sentAt < deadline)
            {
                throw new EffectPendingException(
                    $"A create of closing document '{message.Key}' sent at {sentAt:O} got no answer; waiting until {sentAt + deadline:O} for it to appear before sending again.");
            }

            await context.SetPendingAsyncTaskAsync(CreateSent.Format(clock.GetUtcNow()), CancellationToken.None);
        }

        // Once a write is on its way it is not cancelled (the resilience pipeline's timeouts bound it): a write cancelled
        // after ActivePlatform accepted it would leave an effect Bridge does not know about.
        WriteResult<ExternalInvoice> result;
        if (existing is not null)
        {
            result = await activePlatform.UpdateClosingDocumentAsync(resellerId, message.AccountId, existing.Id, body, CancellationToken.None);
        }
        else
        {
            try
            {
                result = await activePlatform.CreateClosingDocumentAsync(resellerId, message.AccountId, body, CancellationToken.None);
            }
            catch (ActivePlatformException unapplied) when (unapplied.Status is 429 or 503 || (!unapplied.IsTransient && unapplied.Status != 422))
            {
                // Answered without an effect (throttled, unavailable, refused): nothing is pending, the next attempt may send.
                await context.SetPendingAsyncTaskAsync(null, CancellationToken.None);
                throw;
            }
            catch (ActivePlatformPermanentException refused) when (refused.Status == 422)
            {
                // A 422 may mean the key is taken: an earlier attempt's POST was applied though its answer was lost.
                // Then that document is updated; otherwise the refusal stands.
                var appeared = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken);
                if (appeared is null)
                {
                    await context.SetPendingAsyncTaskAsync(null, CancellationToken.None);
                    throw;
                }

                outcome = ClosingDocumentWriteOutcome.Updated;
                result = await activePlatform.UpdateClosingDocumentAsync(resellerId, message.AccountId, appeared.Id, body, CancellationToken.None);
            }
        }

        if (result.AsyncTask is { } task)
        {
            await context.SetPendingAsyncTaskAsync(new PendingWrite(outcome, task.Id).ToString(), CancellationToken.None);
            return (outcome, await AwaitAsyncWriteAsync(resellerId, message, task.Id, cancellationToken));
        }

        return (outcome, result.Resource!.Id);
    }

    private async Task<string> AwaitAsyncWriteAsync(long resellerId, SendClosingDocument message, string taskId, CancellationToken cancellationToken)
    {
        await poller.WaitForCompletionAsync(resellerId, taskId, cancellationToken);

        // The task's results do not name the document: its id is read back by the ERP key.
        var written = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken);
        return written?.Id ?? throw new InvalidOperationException(
            $"ActivePlatform completed async task {taskId} but has no closing document with key '{message.Key}'.");
    }

    private ClosingDocumentRejected Rejected(SendClosingDocument? message, IncomingMessage incoming, Rejection rejection)
        => ClosingDocumentRejections.Build(message?.Key, nameof(SendClosingDocument), incoming, rejection, clock);
}

/// <summary>A create sent at a time with no answer recorded yet, stored as <c>CreateSent|{utc ticks}</c> in the idempotency record.</summary>
internal static class CreateSent
{
    private const string Prefix = "CreateSent|";

    public static string Format(DateTimeOffset at) => Prefix + at.UtcTicks.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? value, out DateTimeOffset at)
    {
        at = default;
        if (value is null || !value.StartsWith(Prefix, StringComparison.Ordinal)
            || !long.TryParse(value.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            return false;
        }

        at = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }
}

/// <summary>The async write being awaited, stored as <c>{outcome}|{taskId}</c> in the idempotency record.</summary>
internal sealed record PendingWrite(ClosingDocumentWriteOutcome Outcome, string TaskId)
{
    public override string ToString() => $"{Outcome}|{TaskId}";

    public static bool TryParse(string? value, out PendingWrite pending)
    {
        pending = null!;
        var separator = value?.IndexOf('|', StringComparison.Ordinal) ?? -1;
        if (separator <= 0 || !Enum.TryParse<ClosingDocumentWriteOutcome>(value![..separator], out var outcome))
        {
            return false;
        }

        pending = new PendingWrite(outcome, value[(separator + 1)..]);
        return true;
    }
}

/// <summary>
/// Orders versions of one document: by the ERP's revision when it sends one, else by its modification time. Stored as a
/// fixed-width token so that ordinal comparison is numeric comparison.
/// </summary>
public static class DocumentVersion
{
    public static string Of(SendClosingDocument message)
        => message.Revision is { } revision
            ? $"r:{revision.ToString("D20", CultureInfo.InvariantCulture)}"
            : $"t:{message.ModifiedAt!.Value.UtcTicks.ToString("D20", CultureInfo.InvariantCulture)}";

    /// <summary>True when <paramref name="incoming"/> is older than <paramref name="applied"/>. Versions of different kinds are not comparable: never older.</summary>
    public static bool IsOlder(string incoming, string? applied)
        => applied is not null && incoming[0] == applied[0] && string.CompareOrdinal(incoming, applied) < 0;

    public static string Describe(string token) => token[0] switch
    {
        'r' => $"revision {long.Parse(token.AsSpan(2), CultureInfo.InvariantCulture)}",
        't' => $"modified at {new DateTimeOffset(long.Parse(token.AsSpan(2), CultureInfo.InvariantCulture), TimeSpan.Zero):O}",
        _ => token,
    };
}

public static class ClosingDocumentScope
{
    public static string Of(long resellerId, long accountId) => FormattableString.Invariant($"closing-document:{resellerId}:{accountId}");
}
