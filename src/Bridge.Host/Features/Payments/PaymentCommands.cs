using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;

namespace Bridge.Host.Features.Payments;

public sealed record CompletePaymentCommand(CompletePayment Message, IncomingMessage Incoming) : IErpCommand;

public sealed record RegisterPaymentCommand(RegisterPayment Message, IncomingMessage Incoming) : IErpCommand;

public sealed record CancelPaymentCommand(CancelPayment Message, IncomingMessage Incoming) : IErpCommand;
