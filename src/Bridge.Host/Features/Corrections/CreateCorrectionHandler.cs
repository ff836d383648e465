using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Corrections;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.Corrections;

/// <summary>
/// Creates the correction once per ERP key. ActivePlatform has no lookup for corrections, so the key's document state is
/// the natural-key record: a key already created (by any earlier message) is answered from it without calling ActivePlatform.
/// </summary>
public sealed class CreateCorrectionHandler(
    IdempotentExecutor executor,
    ICorrectionsClient corrections,
    IEffectJournal journal,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<CreateCorrectionCommand, HandlingOutcome>, IErpCommandRules<CreateCorrectionCommand>
{
    // Checked by ErpCommandValidation before Handle runs.
    public List<string> Validate(CreateCorrectionCommand command) => CorrectionValidation.Validate(command.Message);

    public IResultEvent Rejected(CreateCorrectionCommand command, Rejection rejection) => Rejected(command.Message, command.Incoming, rejection);

    public object? Payload(CreateCorrectionCommand command) => command.Message;

    public async ValueTask<HandlingOutcome> Handle(CreateCorrectionCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = CorrectionScope.Of(resellerId),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message, incoming, rejection),
            Apply = async (context, ct) =>
            {
                var scope = CorrectionScope.Of(resellerId);
                var id = new EffectId(scope, message.Key, message.Key);
                var fingerprint = PayloadFingerprint.Of(message);
                var entry = await journal.FindAsync(id, ct);
                if (entry is { State: EffectState.Applied } && !string.Equals(entry.Fingerprint, fingerprint, StringComparison.Ordinal))
                {
                    throw new NaturalKeyConflictException(
                        $"Correction '{message.Key}' was already created with other figures (account, total, period or comment); this message was not applied.");
                }

                if (context.Document?.ResourceId is { } existingId)
                {
                    var ownSend = string.Equals(entry?.OwnerKey, incoming.IdempotencyKey, StringComparison.Ordinal);
                    return new WorkResult(HandlingOutcome.Applied, Created(message, incoming, resellerId, existingId, context.Document.AppliedVersion ?? "approval_required", alreadyApplied: !ownSend), existingId, null);
                }

                // ActivePlatform answered an earlier send (recorded in the journal at once) but the message's commit did not
                // happen: answered from that record, never sent again.
                if (entry is { State: EffectState.Applied, ResourceId: { } answeredId })
                {
                    var answered = entry.EvidenceAs<CorrectionAnswered>()?.Status ?? "approval_required";
                    var ownSend = string.Equals(entry.OwnerKey, incoming.IdempotencyKey, StringComparison.Ordinal);
                    return new WorkResult(
                        HandlingOutcome.Applied,
                        Created(message, incoming, resellerId, answeredId, answered, alreadyApplied: !ownSend),
                        answeredId,
                        new DocumentChange(answered, answeredId, Deleted: false));
                }

                // Corrections cannot be looked up: a create whose answer was lost cannot be told from one that never
                // arrived. So the send is journaled first, and a later attempt that finds it unresolved stops for an
                // operator rather than risk a second correction.
                if (entry is { IsOpen: true } || entry?.State == EffectState.Unknown || context.Document?.AppliedVersion == Sending)
                {
                    if (entry is { IsOpen: true })
                    {
                        await journal.ResolveAsync(id, entry.Attempt, EffectState.Unknown, null, null, CancellationToken.None);
                    }

                    throw new EffectOutcomeUnknownException(
                        $"Correction '{message.Key}' for account {message.AccountId} ({message.Total.ToString(CultureInfo.InvariantCulture)}) was sent to ActivePlatform but its answer was lost. Check the account's corrections in ActivePlatform. "
                        + EffectInstructions.Resolve(id, "--resource-id <the correction's id>"));
                }

                if (await journal.TryBeginAsync(id, incoming.IdempotencyKey!, fingerprint, null, ct) is not { } attempt)
                {
                    throw new EffectPendingException($"Correction '{message.Key}' is being created by another delivery.");
                }

                Correction correction;
                try
                {
                    // Not cancelled once sent: a create ActivePlatform accepted but Bridge abandoned would be invisible to it.
                    correction = await corrections.CreateCorrectionAsync(resellerId, ToCreate(message), CancellationToken.None);
                }
                catch (Exception refused) when (EffectFailures.ProvesNotApplied(refused))
                {
                    // Answered without an effect (throttled, unavailable, or refused): nothing was created.
                    await journal.ResolveAsync(id, attempt, EffectState.NotApplied, null, null, CancellationToken.None);
                    throw;
                }

                // The answer is recorded before the commit that completes the message: if that commit fails (database
                // stopped, instance killed), the next delivery answers from it instead of finding the outcome unknown.
                var status = correction.Attributes.Status ?? "approval_required";
                var evidence = EffectEvidence.Of(new CorrectionAnswered(status, "ActivePlatform's answer to the create"));
                await journal.ResolveAsync(id, attempt, EffectState.Applied, correction.Id, evidence, CancellationToken.None);
                return new WorkResult(
                    HandlingOutcome.Applied,
                    Created(message, incoming, resellerId, correction.Id, status, alreadyApplied: false),
                    correction.Id,
                    new DocumentChange(status, correction.Id, Deleted: false))
                {
                    Effects = [new EffectResolution(id, attempt, EffectState.Applied, correction.Id, evidence)],
                };
            },
        }, cancellationToken);
    }

    private const string Sending = "sending";

    private static CorrectionCreate ToCreate(CreateCorrection message) => new()
    {
        AccountId = message.AccountId,
        IncludedInvoice = message.IncludedInvoice,
        SubscriptionId = message.IncludedInvoice ? message.SubscriptionId : null,
        PeriodFrom = message.IncludedInvoice ? message.PeriodFrom : null,
        PeriodTo = message.IncludedInvoice ? message.PeriodTo : null,
        Total = message.Total,
        Comment = message.Comment,
    };

    private CorrectionCreated Created(CreateCorrection message, IncomingMessage incoming, long resellerId, string id, string status, bool alreadyApplied) => new()
    {
        Key = message.Key,
        MessageId = incoming.IdempotencyKey!,
        CorrelationId = incoming.CorrelationId,
        OccurredAt = clock.GetUtcNow(),
        ResellerId = resellerId,
        AccountId = message.AccountId,
        CorrectionId = id,
        Status = status,
        Total = message.Total,
        AlreadyApplied = alreadyApplied,
    };

    private CorrectionRejected Rejected(CreateCorrection? message, IncomingMessage incoming, Rejection rejection)
        => CorrectionRejections.Build(message?.Key, nameof(CreateCorrection), incoming, rejection, clock);
}

/// <summary>What ActivePlatform answered to a correction's create: the status it was created in, and how Bridge knows.</summary>
public sealed record CorrectionAnswered(string Status, string How);
