using Bridge.Contracts;
using Bridge.Host.Messaging;
using MassTransit;
using Mediator;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>Thin consumers: read the delivery's identity, map to a command, send it through the mediator.</summary>
public sealed class SendClosingDocumentConsumer(IMediator mediator) : IConsumer<SendClosingDocument>
{
    public const string Queue = BridgeQueues.SendClosingDocument;

    public async Task Consume(ConsumeContext<SendClosingDocument> context)
        => await mediator.Send(new SendClosingDocumentCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}

public sealed class DeleteClosingDocumentConsumer(IMediator mediator) : IConsumer<DeleteClosingDocument>
{
    public const string Queue = BridgeQueues.DeleteClosingDocument;

    public async Task Consume(ConsumeContext<DeleteClosingDocument> context)
        => await mediator.Send(new DeleteClosingDocumentCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}

public sealed class NotifyClosingDocumentsConsumer(IMediator mediator) : IConsumer<NotifyClosingDocuments>
{
    public const string Queue = BridgeQueues.NotifyClosingDocuments;

    public async Task Consume(ConsumeContext<NotifyClosingDocuments> context)
        => await mediator.Send(new NotifyClosingDocumentsCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}
