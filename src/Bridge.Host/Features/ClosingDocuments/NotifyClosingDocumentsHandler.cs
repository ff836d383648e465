using Bridge.ActivePlatform;
using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>
/// Asks ActivePlatform to notify accounts about their new closing documents for a period. ActivePlatform has no
/// idempotency for this call: a crash between its answer and Bridge's commit means the redelivery notifies again
/// (customers get a second e-mail, nothing else is repeated).
/// </summary>
public sealed class NotifyClosingDocumentsHandler(
    IdempotentExecutor executor,
    IActivePlatformClient activePlatform,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<NotifyClosingDocumentsCommand, HandlingOutcome>, IErpCommandRules<NotifyClosingDocumentsCommand>
{
    // Checked by ErpCommandValidation before Handle runs.
    public List<string> Validate(NotifyClosingDocumentsCommand command) => ClosingDocumentValidation.Validate(command.Message);

    public IResultEvent Rejected(NotifyClosingDocumentsCommand command, Rejection rejection) => Rejected(command.Message, command.Incoming, rejection);

    public object? Payload(NotifyClosingDocumentsCommand command) => command.Message;

    public async ValueTask<HandlingOutcome> Handle(NotifyClosingDocumentsCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = FormattableString.Invariant($"closing-document-notification:{resellerId}"),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message, incoming, rejection),
            Apply = async (context, ct) =>
            {
                // Not sent by a delivery whose claim another took while it stalled (and that may have notified meanwhile).
                await context.HoldClaimAsync(ct);
                await activePlatform.NotifyClosingDocumentsAsync(resellerId, message.AccountIds, message.StartDate, message.EndDate, ct);
                var notified = new ClosingDocumentsNotified
                {
                    Key = message.Key,
                    MessageId = incoming.IdempotencyKey!,
                    CorrelationId = incoming.CorrelationId,
                    OccurredAt = clock.GetUtcNow(),
                    AccountIds = message.AccountIds,
                    StartDate = message.StartDate,
                    EndDate = message.EndDate,
                };
                return new WorkResult(HandlingOutcome.Applied, notified, null, null);
            },
        }, cancellationToken);
    }

    private ClosingDocumentRejected Rejected(NotifyClosingDocuments? message, IncomingMessage incoming, Rejection rejection)
        => ClosingDocumentRejections.Build(message?.Key, nameof(NotifyClosingDocuments), incoming, rejection, clock);
}
