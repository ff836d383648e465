using Bridge.Contracts;
using Bridge.Host.Messaging;
using Mediator;

namespace Bridge.Host.Idempotency;

/// <summary>A command carrying one ERP message, validated by <see cref="ErpCommandValidation{TMessage, TResponse}"/> before its handler runs.</summary>
public interface IErpCommand : ICommand<HandlingOutcome>
{
    IncomingMessage Incoming { get; }
}

/// <summary>
/// What a handler says about its command before it runs it: what is wrong with it by its contract's rules, the event that
/// rejects it, and the payload whose fingerprint records the refusal (so a redelivery of the same invalid message is not
/// answered twice). Implemented by the command's handler.
/// </summary>
public interface IErpCommandRules<in TCommand>
    where TCommand : IErpCommand
{
    /// <summary>The contract's rules broken, each naming its field; empty when none.</summary>
    List<string> Validate(TCommand command);

    /// <summary>The flow's rejection event for the command.</summary>
    IResultEvent Rejected(TCommand command, Rejection rejection);

    /// <summary>
    /// What the refusal's fingerprint covers: the message itself, as for a valid one, so that the same message sent again is
    /// recognised however it was refused (and the HTTP door, which fingerprints the message, agrees).
    /// </summary>
    object? Payload(TCommand command);
}

/// <summary>
/// The one prologue of every ERP command (ADR 0001's pipeline behaviour): the contract's rules and the idempotency key are
/// checked before the handler runs, and a command that breaks any is answered with its flow's rejection naming every
/// problem — recorded under its key when it has a usable one — and never reaches the handler.
/// </summary>
public sealed class ErpCommandValidation<TMessage, TResponse>(IServiceProvider services, IdempotentExecutor executor) : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IErpCommand
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(next);
        var rules = services.GetRequiredService<ICommandHandler<TMessage, HandlingOutcome>>() as IErpCommandRules<TMessage>
            ?? throw new InvalidOperationException($"The handler of {typeof(TMessage).Name} does not say how its command is validated (IErpCommandRules<{typeof(TMessage).Name}>).");
        var errors = rules.Validate(message);
        errors.AddRange(IdempotencyKeys.Validate(message.Incoming.IdempotencyKey));
        if (errors.Count > 0)
        {
            await executor.RejectInvalidAsync(rules.Rejected(message, Rejection.Invalid(errors)), message.Incoming, rules.Payload(message), cancellationToken);
            return (TResponse)(object)HandlingOutcome.Rejected;
        }

        return await next(message, cancellationToken);
    }
}
