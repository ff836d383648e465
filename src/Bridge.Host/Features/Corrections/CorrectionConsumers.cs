using Bridge.Contracts;
using Bridge.Host.Messaging;
using MassTransit;
using Mediator;

namespace Bridge.Host.Features.Corrections;

/// <summary>Thin consumers: read the delivery's identity, map to a command, send it through the mediator.</summary>
public sealed class CreateCorrectionConsumer(IMediator mediator) : IConsumer<CreateCorrection>
{
    public const string Queue = BridgeQueues.CreateCorrection;

    public async Task Consume(ConsumeContext<CreateCorrection> context)
        => await mediator.Send(new CreateCorrectionCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}

public sealed class ApproveCorrectionConsumer(IMediator mediator) : IConsumer<ApproveCorrection>
{
    public const string Queue = BridgeQueues.ApproveCorrection;

    public async Task Consume(ConsumeContext<ApproveCorrection> context)
        => await mediator.Send(new ApproveCorrectionCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}

public sealed class DeclineCorrectionConsumer(IMediator mediator) : IConsumer<DeclineCorrection>
{
    public const string Queue = BridgeQueues.DeclineCorrection;

    public async Task Consume(ConsumeContext<DeclineCorrection> context)
        => await mediator.Send(new DeclineCorrectionCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}
