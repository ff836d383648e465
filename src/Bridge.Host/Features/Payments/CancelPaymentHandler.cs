using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.Payments;

/// <summary>
/// Cancels a payment by id. A payment already cancelled (an earlier message, a lost answer, or by hand) is reported as
/// already applied; any other state ActivePlatform refuses with its documented 422 title, which reaches PaymentRejected.
/// </summary>
public sealed class CancelPaymentHandler(
    IdempotentExecutor executor,
    IPaymentsClient payments,
    PaymentEffectGroup group,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<CancelPaymentCommand, HandlingOutcome>, IErpCommandRules<CancelPaymentCommand>
{
    // Checked by ErpCommandValidation before Handle runs.
    public List<string> Validate(CancelPaymentCommand command) => PaymentValidation.Validate(command.Message);

    public IResultEvent Rejected(CancelPaymentCommand command, Rejection rejection) => Rejected(command.Message?.PaymentId, command.Incoming, rejection);

    public object? Payload(CancelPaymentCommand command) => command.Message;

    public async ValueTask<HandlingOutcome> Handle(CancelPaymentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = PaymentScopes.Payment(resellerId),
            DocumentKey = message.PaymentId,
            Reject = rejection => Rejected(message.PaymentId, incoming, rejection),
            Apply = (context, ct) => ApplyAsync(context, message, incoming, resellerId, ct),
        }, cancellationToken);
    }

    private async Task<WorkResult> ApplyAsync(WorkContext context, CancelPayment message, IncomingMessage incoming, long resellerId, CancellationToken cancellationToken)
    {
        if (context.Document?.AppliedVersion == PaymentStatuses.Cancelled)
        {
            return new WorkResult(HandlingOutcome.Applied, Cancelled(message, incoming, resellerId, null, PaymentStatuses.Cancelled, alreadyApplied: true), message.PaymentId, null);
        }

        // One effect of the payment's group (see PaymentEffectGroup): never sent while a statement line's outcome is unknown.
        // A DELETE the HTTP layer repeated after a lost answer, refused because the first one applied, is success.
        var (current, alreadyApplied, resolution) = await group.ChangeStatusAsync(
            resellerId,
            message.PaymentId,
            PaymentStatuses.Cancelled,
            incoming.IdempotencyKey!,
            () => payments.CancelAsync(resellerId, message.PaymentId, CancellationToken.None),
            cancellationToken,
            beforeUnjournaledSend: context.MarkUnjournaledSendAsync);

        return new WorkResult(
            HandlingOutcome.Applied,
            Cancelled(message, incoming, resellerId, current?.Attributes.DocumentId, current?.Attributes.Status, alreadyApplied),
            message.PaymentId,
            new DocumentChange(PaymentStatuses.Cancelled, message.PaymentId, Deleted: false))
        {
            Effects = resolution is null ? [] : [resolution],
        };
    }

    private PaymentCancelled Cancelled(CancelPayment message, IncomingMessage incoming, long resellerId, string? number, string? status, bool alreadyApplied)
        => new()
        {
            Key = message.PaymentId,
            MessageId = incoming.IdempotencyKey!,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            ResellerId = resellerId,
            PaymentId = message.PaymentId,
            PaymentNumber = number,
            PaymentStatus = status,
            AlreadyApplied = alreadyApplied,
        };

    private PaymentRejected Rejected(string? key, IncomingMessage incoming, Rejection rejection)
        => PaymentRejections.Build(key, nameof(CancelPayment), incoming, rejection, clock);
}
