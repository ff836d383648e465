using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using MassTransit;
using Mediator;

namespace Bridge.Host.Features.CurrencyRates;

public sealed record UpdateCurrencyRatesCommand(UpdateCurrencyRates Message, IncomingMessage Incoming) : IErpCommand;

/// <summary>Thin consumer: reads the delivery's identity, maps to a command, sends it through the mediator.</summary>
public sealed class UpdateCurrencyRatesConsumer(IMediator mediator) : IConsumer<UpdateCurrencyRates>
{
    public const string Queue = BridgeQueues.UpdateCurrencyRates;

    public async Task Consume(ConsumeContext<UpdateCurrencyRates> context)
        => await mediator.Send(new UpdateCurrencyRatesCommand(context.Message, IncomingMessageFactory.From(context, context.Message.IdempotencyKey)), context.CancellationToken);
}
