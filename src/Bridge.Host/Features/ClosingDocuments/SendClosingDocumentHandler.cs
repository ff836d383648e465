using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Models;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
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
    ClosingDocumentCreates creates,
    IEffectJournal journal,
    IDocumentStateStore documents,
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
        // Whatever create of this document is still unresolved (this message's or another's) is settled first.
        var createId = ClosingDocumentCreates.Id(resellerId, message.AccountId, message.Key, incoming.IdempotencyKey!);
        var settled = await creates.SettleOpenCreateAsync(resellerId, message.AccountId, message.Key, cancellationToken);
        var mine = settled?.Id == createId ? settled : await journal.FindAsync(createId, cancellationToken);
        if (mine?.State == EffectState.Applied)
        {
            // This message's create was applied; its answer reached Bridge only through the settling read-back.
            return new WorkResult(HandlingOutcome.Applied, Sent(message, incoming, resellerId, ClosingDocumentWriteOutcome.Created, mine.ResourceId!), mine.ResourceId, null);
        }

        if (mine is { State: EffectState.NotApplied } && mine.EvidenceAs<DocumentCreate>() is { FailureMessage: { } failure })
        {
            throw new AsyncTaskFailedException(mine.AsyncTaskId ?? "", failure, new ActivePlatformFailureDetails());
        }

        var document = settled is null ? context.Document : await documents.GetAsync(ClosingDocumentScope.Of(resellerId, message.AccountId), message.Key, cancellationToken);
        // Older than what was applied — or the very version a delete came after: a republish must not bring it back.
        if (DocumentVersion.IsOlder(version, document?.AppliedVersion) || (document is { Deleted: true } && version == document.AppliedVersion))
        {
            var skipped = new ClosingDocumentSkipped
            {
                Key = message.Key,
                MessageId = incoming.IdempotencyKey!,
                CorrelationId = incoming.CorrelationId,
                OccurredAt = clock.GetUtcNow(),
                AccountId = message.AccountId,
                ExternalInvoiceId = document?.ResourceId,
                SkippedVersion = DocumentVersion.Describe(version),
                AppliedVersion = DocumentVersion.Describe(document!.AppliedVersion!),
            };
            return new WorkResult(HandlingOutcome.Skipped, skipped, document.ResourceId, null);
        }

        var (outcome, id, effect) = await WriteAsync(context, message, resellerId, version, createId, cancellationToken);

        // An async update whose document was deleted before the task was read back stays deleted in Bridge's record.
        var change = id.Length == 0 ? null : new DocumentChange(version, id, Deleted: false);
        id = id.Length == 0 ? document?.ResourceId ?? "" : id;
        return new WorkResult(HandlingOutcome.Applied, Sent(message, incoming, resellerId, outcome, id), id, change)
        {
            Effects = effect is null ? [] : [effect],
        };
    }

    private ClosingDocumentSent Sent(SendClosingDocument message, IncomingMessage incoming, long resellerId, ClosingDocumentWriteOutcome outcome, string id) => new()
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

    private async Task<(ClosingDocumentWriteOutcome Outcome, string Id, EffectResolution? Effect)> WriteAsync(
        WorkContext context, SendClosingDocument message, long resellerId, string version, EffectId createId, CancellationToken cancellationToken)
    {
        // A restart during an async update (or a create recorded before the effect journal) resumes polling its stored task.
        if (PendingWrite.TryParse(context.Record.PendingAsyncTaskId, out var pending))
        {
            return (pending.Outcome, await AwaitAsyncWriteAsync(resellerId, message, pending.TaskId, pending.Outcome == ClosingDocumentWriteOutcome.Updated, cancellationToken), null);
        }

        var body = ClosingDocumentMapping.ToWrite(message);
        var existing = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken);
        if (existing is not null)
        {
            return (ClosingDocumentWriteOutcome.Updated, await UpdateAsync(context, message, resellerId, existing.Id, body, cancellationToken), null);
        }

        // A create is an effect of the document: journaled before the POST, so no other message for this key sends one
        // until this one's outcome is known.
        if (await journal.TryBeginAsync(createId, createId.Key[(createId.Group.Length + 1)..], "", EffectEvidence.Of(new DocumentCreate(version)), cancellationToken) is not { } attempt)
        {
            throw new EffectPendingException($"Another create of closing document '{message.Key}' is unresolved.");
        }

        // Once a write is on its way it is not cancelled (the resilience pipeline's timeouts bound it): a write cancelled
        // after ActivePlatform accepted it would leave an effect Bridge does not know about.
        WriteResult<ExternalInvoice> result;
        try
        {
            result = await activePlatform.CreateClosingDocumentAsync(resellerId, message.AccountId, body, CancellationToken.None);
        }
        catch (ActivePlatformPermanentException refused) when (refused.Status == 422)
        {
            // Nothing was created. A 422 may mean the key is taken by a document Bridge did not create (or created before
            // its journal): then that document is updated; otherwise the refusal stands.
            await journal.ResolveAsync(createId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new DocumentCreate(version, How: "refused: " + refused.Message)), CancellationToken.None);
            var appeared = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken);
            if (appeared is null)
            {
                throw;
            }

            return (ClosingDocumentWriteOutcome.Updated, await UpdateAsync(context, message, resellerId, appeared.Id, body, cancellationToken), null);
        }
        catch (Exception unapplied) when (EffectFailures.ProvesNotAppliedOrIsLookedUpByKey(unapplied))
        {
            await journal.ResolveAsync(createId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new DocumentCreate(version, How: "answered: " + unapplied.Message)), CancellationToken.None);
            throw;
        }

        string id;
        if (result.AsyncTask is { } task)
        {
            await journal.SetAsyncTaskAsync(createId, attempt, task.Id, CancellationToken.None);
            try
            {
                id = await AwaitAsyncWriteAsync(resellerId, message, task.Id, update: false, cancellationToken);
            }
            catch (AsyncTaskFailedException failed)
            {
                await journal.ResolveAsync(createId, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new DocumentCreate(version, How: $"async task {task.Id} failed", FailureMessage: failed.FailureMessage ?? failed.Message)), CancellationToken.None);
                throw;
            }
        }
        else
        {
            id = result.Resource!.Id;
        }

        var created = new DocumentCreate(version, nameof(ClosingDocumentWriteOutcome.Created), id, "ActivePlatform's answer to the create");
        return (ClosingDocumentWriteOutcome.Created, id, new EffectResolution(createId, attempt, EffectState.Applied, id, EffectEvidence.Of(created)));
    }

    private async Task<string> UpdateAsync(WorkContext context, SendClosingDocument message, long resellerId, string externalInvoiceId, ClosingDocumentWrite body, CancellationToken cancellationToken)
    {
        var result = await activePlatform.UpdateClosingDocumentAsync(resellerId, message.AccountId, externalInvoiceId, body, CancellationToken.None);
        if (result.AsyncTask is { } task)
        {
            await context.SetPendingAsyncTaskAsync(new PendingWrite(ClosingDocumentWriteOutcome.Updated, task.Id).ToString(), CancellationToken.None);
            return await AwaitAsyncWriteAsync(resellerId, message, task.Id, update: true, cancellationToken);
        }

        return result.Resource!.Id;
    }

    /// <returns>The document's id; empty when an update's document was deleted (by a later delete) before it was read back.</returns>
    private async Task<string> AwaitAsyncWriteAsync(long resellerId, SendClosingDocument message, string taskId, bool update, CancellationToken cancellationToken)
    {
        await poller.WaitForCompletionAsync(resellerId, taskId, cancellationToken);

        // The task's results do not name the document: its id is read back by the ERP key.
        var written = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, cancellationToken);
        if (written is null && update)
        {
            // The update was applied and the document deleted since (a delete for the key ran while this task was polled
            // across a retry): the update stands in history, and the document stays deleted.
            return "";
        }

        return written?.Id ?? throw new InvalidOperationException(
            $"ActivePlatform completed async task {taskId} but has no closing document with key '{message.Key}'.");
    }

    private ClosingDocumentRejected Rejected(SendClosingDocument? message, IncomingMessage incoming, Rejection rejection)
        => ClosingDocumentRejections.Build(message?.Key, nameof(SendClosingDocument), incoming, rejection, clock);
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
