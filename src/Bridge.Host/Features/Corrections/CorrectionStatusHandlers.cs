using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Corrections;
using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.Corrections;

public sealed class ApproveCorrectionHandler(
    IdempotentExecutor executor,
    ICorrectionsClient corrections,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : CorrectionStatusChange(executor, corrections, activePlatformOptions, clock), ICommandHandler<ApproveCorrectionCommand, HandlingOutcome>, IErpCommandRules<ApproveCorrectionCommand>
{
    public ValueTask<HandlingOutcome> Handle(ApproveCorrectionCommand command, CancellationToken cancellationToken)
        => HandleAsync(RequestOf(command), command.Incoming, cancellationToken);

    public List<string> Validate(ApproveCorrectionCommand command) => Validate(RequestOf(command));

    public IResultEvent Rejected(ApproveCorrectionCommand command, Rejection rejection) => Rejected(RequestOf(command), command.Incoming, rejection);

    public object? Payload(ApproveCorrectionCommand command) => command.Message;

    private static CorrectionStatusRequest RequestOf(ApproveCorrectionCommand command) =>
        new(command.Message?.ResellerId, command.Message?.Key, command.Message?.CorrectionId, command.Message is null, PayloadFingerprint.Of(command.Message), nameof(ApproveCorrection), CorrectionStatus.Approved);
}

public sealed class DeclineCorrectionHandler(
    IdempotentExecutor executor,
    ICorrectionsClient corrections,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : CorrectionStatusChange(executor, corrections, activePlatformOptions, clock), ICommandHandler<DeclineCorrectionCommand, HandlingOutcome>, IErpCommandRules<DeclineCorrectionCommand>
{
    public ValueTask<HandlingOutcome> Handle(DeclineCorrectionCommand command, CancellationToken cancellationToken)
        => HandleAsync(RequestOf(command), command.Incoming, cancellationToken);

    public List<string> Validate(DeclineCorrectionCommand command) => Validate(RequestOf(command));

    public IResultEvent Rejected(DeclineCorrectionCommand command, Rejection rejection) => Rejected(RequestOf(command), command.Incoming, rejection);

    public object? Payload(DeclineCorrectionCommand command) => command.Message;

    private static CorrectionStatusRequest RequestOf(DeclineCorrectionCommand command) =>
        new(command.Message?.ResellerId, command.Message?.Key, command.Message?.CorrectionId, command.Message is null, PayloadFingerprint.Of(command.Message), nameof(DeclineCorrection), CorrectionStatus.Declined);
}

public sealed record CorrectionStatusRequest(long? ResellerId, string? Key, string? CorrectionId, bool Empty, PayloadFingerprint Fingerprint, string MessageType, CorrectionStatus Target);

/// <summary>
/// Approve or decline, by the ERP key. The id is the message's <c>correctionId</c> or, when absent, the id Bridge recorded
/// when it created the correction under that key. The key's document state also records the status Bridge last set: the
/// same status again (under any message id) is answered as already applied without calling ActivePlatform; any other
/// change goes to ActivePlatform, which refuses it unless the correction is still awaiting approval.
/// </summary>
public abstract class CorrectionStatusChange(
    IdempotentExecutor executor,
    ICorrectionsClient corrections,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock)
{
    /// <summary>The contract's rules for a status change (checked by ErpCommandValidation before <see cref="HandleAsync"/>).</summary>
    protected static List<string> Validate(CorrectionStatusRequest request) =>
        request.Empty ? ["the message body is empty"] : CorrectionValidation.ValidateStatusChange(request.ResellerId, request.Key, request.CorrectionId);

    /// <summary>Runs a valid request.</summary>
    protected async ValueTask<HandlingOutcome> HandleAsync(CorrectionStatusRequest request, IncomingMessage incoming, CancellationToken cancellationToken)
    {
        var resellerId = request.ResellerId ?? activePlatformOptions.Value.ResellerId;
        var target = request.Target == CorrectionStatus.Approved ? "approved" : "declined";
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = request.Fingerprint,
            Scope = CorrectionScope.Of(resellerId),
            DocumentKey = request.Key!,
            Reject = rejection => Rejected(request, incoming, rejection),
            Apply = async (context, claimHeld) =>
            {
                var recorded = context.Document?.ResourceId;
                if (request.CorrectionId is { } given && recorded is not null && !string.Equals(given, recorded, StringComparison.Ordinal))
                {
                    return Invalid(request, incoming, $"correctionId: {given} is not the correction Bridge created for key {request.Key} ({recorded})");
                }

                if ((request.CorrectionId ?? recorded) is not { } id)
                {
                    return Invalid(request, incoming, $"correctionId: no correction was created through Bridge with key {request.Key}; give ActivePlatform's correctionId");
                }

                if (string.Equals(context.Document?.AppliedVersion, target, StringComparison.Ordinal))
                {
                    return new WorkResult(HandlingOutcome.Applied, Succeeded(request, incoming, resellerId, id, null, alreadyApplied: true), id, null);
                }

                // Sent only while the claim has been held since the state above was read: a stale approve after another
                // delivery declined would be refused and, judged on that stale state, kept as an unknown outcome.
                await context.HoldClaimAsync(claimHeld);
                Correction correction;
                try
                {
                    correction = await corrections.SetCorrectionStatusAsync(resellerId, id, request.Target, CancellationToken.None);
                }
                catch (ActivePlatformPermanentException refused) when (refused.Status == 422 && context.Document?.AppliedVersion == "approval_required")
                {
                    // Bridge created this correction and has set no status since, yet ActivePlatform says it is no longer
                    // awaiting approval: most likely a repeat of this very change whose first answer was lost (or a manager
                    // changed it by hand). Corrections cannot be read back, so this is not reported as refused.
                    throw new EffectOutcomeUnknownException(
                        $"Correction {id} (key '{request.Key}') is no longer awaiting approval, but Bridge did not see it change. If ActivePlatform shows it {target}, discard this message; otherwise change it by hand.");
                }

                return new WorkResult(
                    HandlingOutcome.Applied,
                    Succeeded(request, incoming, resellerId, id, correction.Attributes.ApprovedAt, alreadyApplied: false),
                    id,
                    new DocumentChange(target, id, Deleted: false));
            },
        }, cancellationToken);
    }

    private WorkResult Invalid(CorrectionStatusRequest request, IncomingMessage incoming, string error)
        => new(HandlingOutcome.Rejected, Rejected(request, incoming, Rejection.Invalid([error])), null, null);

    private IResultEvent Succeeded(CorrectionStatusRequest request, IncomingMessage incoming, long resellerId, string id, DateOnly? approvedAt, bool alreadyApplied)
        => request.Target == CorrectionStatus.Approved
            ? new CorrectionApproved
            {
                Key = request.Key!,
                MessageId = incoming.IdempotencyKey!,
                CorrelationId = incoming.CorrelationId,
                OccurredAt = clock.GetUtcNow(),
                ResellerId = resellerId,
                CorrectionId = id,
                ApprovedAt = approvedAt,
                AlreadyApplied = alreadyApplied,
            }
            : new CorrectionDeclined
            {
                Key = request.Key!,
                MessageId = incoming.IdempotencyKey!,
                CorrelationId = incoming.CorrelationId,
                OccurredAt = clock.GetUtcNow(),
                ResellerId = resellerId,
                CorrectionId = id,
                AlreadyApplied = alreadyApplied,
            };

    protected CorrectionRejected Rejected(CorrectionStatusRequest request, IncomingMessage incoming, Rejection rejection)
        => CorrectionRejections.Build(request.Key, request.MessageType, incoming, rejection, clock);
}
