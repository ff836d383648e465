using Bridge.Contracts;
using Bridge.Host.Messaging;
using MassTransit;
using Mediator;

namespace Bridge.Host.Features.Payments;

/// <summary>Thin consumers: read the delivery's identity, map to a command, send it through the mediator.</summary>
public sealed class CompletePaymentConsumer(IMediator mediator) : IConsumer<CompletePayment>
{
    public const string Queue = BridgeQueues.CompletePayment;

    public async Task Consume(ConsumeContext<CompletePayment> context)
        => await mediator.Send(new CompletePaymentCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}

public sealed class RegisterPaymentConsumer(IMediator mediator) : IConsumer<RegisterPayment>
{
    public const string Queue = BridgeQueues.RegisterPayment;

    public async Task Consume(ConsumeContext<RegisterPayment> context)
        => await mediator.Send(new RegisterPaymentCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}

public sealed class CancelPaymentConsumer(IMediator mediator) : IConsumer<CancelPayment>
{
    public const string Queue = BridgeQueues.CancelPayment;

    public async Task Consume(ConsumeContext<CancelPayment> context)
        => await mediator.Send(new CancelPaymentCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}
