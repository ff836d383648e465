using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;

namespace Bridge.Host.Features.Corrections;

public sealed record CreateCorrectionCommand(CreateCorrection Message, IncomingMessage Incoming) : IErpCommand;

public sealed record ApproveCorrectionCommand(ApproveCorrection Message, IncomingMessage Incoming) : IErpCommand;

public sealed record DeclineCorrectionCommand(DeclineCorrection Message, IncomingMessage Incoming) : IErpCommand;
