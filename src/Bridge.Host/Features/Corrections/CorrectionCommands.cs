using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;

namespace Bridge.Host.Features.Corrections;

public sealed record CreateCorrectionCommand(CreateCorrection Message, IncomingMessage Incoming) : ICommand<HandlingOutcome>;

public sealed record ApproveCorrectionCommand(ApproveCorrection Message, IncomingMessage Incoming) : ICommand<HandlingOutcome>;

public sealed record DeclineCorrectionCommand(DeclineCorrection Message, IncomingMessage Incoming) : ICommand<HandlingOutcome>;
