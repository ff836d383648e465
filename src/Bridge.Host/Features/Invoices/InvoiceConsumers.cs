using Bridge.Contracts;
using Bridge.Host.Messaging;
using MassTransit;
using Mediator;

namespace Bridge.Host.Features.Invoices;

/// <summary>Thin consumers: read the delivery's identity, map to a command, send it through the mediator.</summary>
public sealed class ApproveInvoiceConsumer(IMediator mediator) : IConsumer<ApproveInvoice>
{
    public const string Queue = BridgeQueues.ApproveInvoice;

    public async Task Consume(ConsumeContext<ApproveInvoice> context)
        => await mediator.Send(new ApproveInvoiceCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}

public sealed class CompleteInvoiceConsumer(IMediator mediator) : IConsumer<CompleteInvoice>
{
    public const string Queue = BridgeQueues.CompleteInvoice;

    public async Task Consume(ConsumeContext<CompleteInvoice> context)
        => await mediator.Send(new CompleteInvoiceCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}

public sealed class RevokeInvoiceApprovalConsumer(IMediator mediator) : IConsumer<RevokeInvoiceApproval>
{
    public const string Queue = BridgeQueues.RevokeInvoiceApproval;

    public async Task Consume(ConsumeContext<RevokeInvoiceApproval> context)
        => await mediator.Send(new RevokeInvoiceApprovalCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}
