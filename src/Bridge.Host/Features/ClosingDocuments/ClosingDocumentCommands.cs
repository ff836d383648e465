using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;

namespace Bridge.Host.Features.ClosingDocuments;

public sealed record SendClosingDocumentCommand(SendClosingDocument Message, IncomingMessage Incoming) : IErpCommand;

public sealed record DeleteClosingDocumentCommand(DeleteClosingDocument Message, IncomingMessage Incoming) : IErpCommand;

public sealed record NotifyClosingDocumentsCommand(NotifyClosingDocuments Message, IncomingMessage Incoming) : IErpCommand;
