using Bridge.ActivePlatform;
using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>Deletes by the ERP's key; a document ActivePlatform does not have is reported as already absent, not as an error.</summary>
public sealed class DeleteClosingDocumentHandler(
    IdempotentExecutor executor,
    IActivePlatformClient activePlatform,
    ClosingDocumentCreates creates,
    Bridge.Host.Storage.IDocumentStateStore documents,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<DeleteClosingDocumentCommand, HandlingOutcome>
{
    public async ValueTask<HandlingOutcome> Handle(DeleteClosingDocumentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;
        var errors = ClosingDocumentValidation.Validate(message);
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
            Scope = ClosingDocumentScope.Of(resellerId, message.AccountId),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message, incoming, rejection),
            Apply = async (context, ct) =>
            {
                // A create still unresolved would bring the document back after this delete reported it absent: settle it first.
                var settled = await creates.SettleOpenCreateAsync(resellerId, message.AccountId, message.Key, ct);
                var document = settled is null ? context.Document : await documents.GetAsync(ClosingDocumentScope.Of(resellerId, message.AccountId), message.Key, ct);
                var existing = await activePlatform.FindClosingDocumentAsync(resellerId, message.AccountId, message.Key, ct);

                // Deleted between the lookup and the DELETE (404) counts as not present.
                var wasPresent = existing is not null
                    && (await activePlatform.DeleteClosingDocumentAsync(resellerId, message.AccountId, existing.Id, ct)).WasPresent;

                var deleted = new ClosingDocumentDeleted
                {
                    Key = message.Key,
                    MessageId = incoming.IdempotencyKey!,
                    CorrelationId = incoming.CorrelationId,
                    OccurredAt = clock.GetUtcNow(),
                    AccountId = message.AccountId,
                    ExternalInvoiceId = existing?.Id,
                    WasPresent = wasPresent,
                };

                // The applied version stays: a late, older version must not bring a deleted document back.
                return new WorkResult(HandlingOutcome.Applied, deleted, existing?.Id, new DocumentChange(document?.AppliedVersion, null, Deleted: true));
            },
        }, cancellationToken);
    }

    private ClosingDocumentRejected Rejected(DeleteClosingDocument? message, IncomingMessage incoming, Rejection rejection)
        => ClosingDocumentRejections.Build(message?.Key, nameof(DeleteClosingDocument), incoming, rejection, clock);
}
