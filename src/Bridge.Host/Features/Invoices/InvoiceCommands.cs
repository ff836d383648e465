using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;

namespace Bridge.Host.Features.Invoices;

public sealed record ApproveInvoiceCommand(ApproveInvoice Message, IncomingMessage Incoming) : IErpCommand;

public sealed record CompleteInvoiceCommand(CompleteInvoice Message, IncomingMessage Incoming) : IErpCommand;

public sealed record RevokeInvoiceApprovalCommand(RevokeInvoiceApproval Message, IncomingMessage Incoming) : IErpCommand;
