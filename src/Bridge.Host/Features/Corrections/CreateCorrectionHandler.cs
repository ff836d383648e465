using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Corrections;
using Bridge.Contracts;
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
    IDocumentStateStore documents,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<CreateCorrectionCommand, HandlingOutcome>
{
    public async ValueTask<HandlingOutcome> Handle(CreateCorrectionCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;
        var errors = CorrectionValidation.Validate(message);
        errors.AddRange(IdempotencyKeys.Validate(incoming.IdempotencyKey));
        if (errors.Count > 0)
        {
            await executor.RejectInvalidAsync(Rejected(message, incoming, Rejection.Invalid(errors)), incoming, message, cancellationToken);
            return HandlingOutcome.Rejected;
        }

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = CorrectionScope.Of(resellerId),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message, incoming, rejection),
            Apply = async (context, _) =>
            {
                if (context.Document?.ResourceId is { } existingId)
                {
                    return new WorkResult(HandlingOutcome.Applied, Created(message, incoming, resellerId, existingId, context.Document.AppliedVersion ?? "approval_required", alreadyApplied: true), existingId, null);
                }

                // Corrections cannot be looked up: a create whose answer was lost cannot be told from one that never
                // arrived. So the send is recorded first, and a later attempt that finds it stops for an operator rather
                // than risk a second correction.
                var scope = CorrectionScope.Of(resellerId);
                if (context.Document?.AppliedVersion == Sending)
                {
                    throw new EffectOutcomeUnknownException(
                        $"Correction '{message.Key}' for account {message.AccountId} ({message.Total.ToString(CultureInfo.InvariantCulture)}) was sent to ActivePlatform but its answer was lost. Check the account's corrections in ActivePlatform: discard this message if it exists.");
                }

                await SetStateAsync(scope, message.Key, Sending);
                Correction correction;
                try
                {
                    // Not cancelled once sent: a create ActivePlatform accepted but Bridge abandoned would be invisible to it.
                    correction = await corrections.CreateCorrectionAsync(resellerId, ToCreate(message), CancellationToken.None);
                }
                catch (ActivePlatformException refused) when (refused.Status is 429 or 503 || !refused.IsTransient)
                {
                    // Answered without an effect (throttled, unavailable, or refused): nothing was created.
                    await SetStateAsync(scope, message.Key, null);
                    throw;
                }

                var status = correction.Attributes.Status ?? "approval_required";
                return new WorkResult(
                    HandlingOutcome.Applied,
                    Created(message, incoming, resellerId, correction.Id, status, alreadyApplied: false),
                    correction.Id,
                    new DocumentChange(status, correction.Id, Deleted: false));
            },
        }, cancellationToken);
    }

    private const string Sending = "sending";

    private Task SetStateAsync(string scope, string key, string? state) => documents.SetAppliedNowAsync(scope, key, state, null, CancellationToken.None);

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
