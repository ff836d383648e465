using System.Text.RegularExpressions;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Invoices;
using Bridge.Contracts;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.Invoices;

public enum InvoiceOperation
{
    Approve,
    Complete,
    Revoke,
}

/// <summary>One invoice message, whichever of the three it is.</summary>
public sealed record InvoiceRequest(
    InvoiceOperation Operation,
    string MessageType,
    PayloadFingerprint Fingerprint,
    long? ResellerId,
    string? DocumentId,
    DateOnly BillingDate,
    long? AccountId,
    string? InvoiceId,
    Money? ExternalAmount = null,
    DateOnly? DueDate = null);

public sealed class ApproveInvoiceHandler(IdempotentExecutor executor, IInvoicesClient invoices, IOptions<ActivePlatformOptions> activePlatformOptions, TimeProvider clock)
    : InvoiceOperationHandler(executor, invoices, activePlatformOptions, clock), ICommandHandler<ApproveInvoiceCommand, HandlingOutcome>, IErpCommandRules<ApproveInvoiceCommand>
{
    public ValueTask<HandlingOutcome> Handle(ApproveInvoiceCommand command, CancellationToken cancellationToken)
        => HandleAsync(RequestOf(command)!, nameof(ApproveInvoice), command.Incoming, cancellationToken);

    public List<string> Validate(ApproveInvoiceCommand command) => Validate(RequestOf(command));

    public IResultEvent Rejected(ApproveInvoiceCommand command, Rejection rejection) => Rejected(command.Message?.DocumentId, nameof(ApproveInvoice), command.Incoming, rejection);

    public object? Payload(ApproveInvoiceCommand command) => command.Message;

    private static InvoiceRequest? RequestOf(ApproveInvoiceCommand command) => command.Message is not { } m
        ? null
        : new InvoiceRequest(InvoiceOperation.Approve, nameof(ApproveInvoice), PayloadFingerprint.Of(m), m.ResellerId, m.DocumentId, m.BillingDate, m.AccountId, m.InvoiceId, m.ExternalAmount, m.DueDate);
}

public sealed class CompleteInvoiceHandler(IdempotentExecutor executor, IInvoicesClient invoices, IOptions<ActivePlatformOptions> activePlatformOptions, TimeProvider clock)
    : InvoiceOperationHandler(executor, invoices, activePlatformOptions, clock), ICommandHandler<CompleteInvoiceCommand, HandlingOutcome>, IErpCommandRules<CompleteInvoiceCommand>
{
    public ValueTask<HandlingOutcome> Handle(CompleteInvoiceCommand command, CancellationToken cancellationToken)
        => HandleAsync(RequestOf(command)!, nameof(CompleteInvoice), command.Incoming, cancellationToken);

    public List<string> Validate(CompleteInvoiceCommand command) => Validate(RequestOf(command));

    public IResultEvent Rejected(CompleteInvoiceCommand command, Rejection rejection) => Rejected(command.Message?.DocumentId, nameof(CompleteInvoice), command.Incoming, rejection);

    public object? Payload(CompleteInvoiceCommand command) => command.Message;

    private static InvoiceRequest? RequestOf(CompleteInvoiceCommand command) => command.Message is not { } m
        ? null
        : new InvoiceRequest(InvoiceOperation.Complete, nameof(CompleteInvoice), PayloadFingerprint.Of(m), m.ResellerId, m.DocumentId, m.BillingDate, m.AccountId, m.InvoiceId);
}

public sealed class RevokeInvoiceApprovalHandler(IdempotentExecutor executor, IInvoicesClient invoices, IOptions<ActivePlatformOptions> activePlatformOptions, TimeProvider clock)
    : InvoiceOperationHandler(executor, invoices, activePlatformOptions, clock), ICommandHandler<RevokeInvoiceApprovalCommand, HandlingOutcome>, IErpCommandRules<RevokeInvoiceApprovalCommand>
{
    public ValueTask<HandlingOutcome> Handle(RevokeInvoiceApprovalCommand command, CancellationToken cancellationToken)
        => HandleAsync(RequestOf(command)!, nameof(RevokeInvoiceApproval), command.Incoming, cancellationToken);

    public List<string> Validate(RevokeInvoiceApprovalCommand command) => Validate(RequestOf(command));

    public IResultEvent Rejected(RevokeInvoiceApprovalCommand command, Rejection rejection) => Rejected(command.Message?.DocumentId, nameof(RevokeInvoiceApproval), command.Incoming, rejection);

    public object? Payload(RevokeInvoiceApprovalCommand command) => command.Message;

    private static InvoiceRequest? RequestOf(RevokeInvoiceApprovalCommand command) => command.Message is not { } m
        ? null
        : new InvoiceRequest(InvoiceOperation.Revoke, nameof(RevokeInvoiceApproval), PayloadFingerprint.Of(m), m.ResellerId, m.DocumentId, m.BillingDate, m.AccountId, m.InvoiceId);
}

/// <summary>
/// Approve, complete or revoke an ERP-managed postpaid invoice. The natural key is the ERP's document id with the operation:
/// every message about one document id shares a claim, and the document state records the invoice id and the last operation
/// applied (<c>approved</c>, <c>completed</c>, <c>revoked</c>). An operation whose effect is already in place — approve after
/// approve or complete, complete after complete, revoke after revoke — is answered with <c>alreadyApplied</c> and no call;
/// approve after revoke is a new approval and goes to ActivePlatform. ActivePlatform's refusals (INVOICE-00xx) become
/// <see cref="InvoiceRejected"/> with the code.
/// </summary>
public abstract partial class InvoiceOperationHandler(
    IdempotentExecutor executor,
    IInvoicesClient invoices,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock)
{
    /// <summary>Runs a valid request (ErpCommandValidation checked it, by <see cref="Validate(InvoiceRequest?)"/>).</summary>
    protected async ValueTask<HandlingOutcome> HandleAsync(InvoiceRequest r, string messageType, IncomingMessage incoming, CancellationToken cancellationToken)
    {
        var resellerId = r.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = r.Fingerprint,
            Scope = FormattableString.Invariant($"invoice:{resellerId}"),
            DocumentKey = r.DocumentId!,
            MayHoldThroughSend = true,
            Reject = rejection => Rejected(r.DocumentId, messageType, incoming, rejection),
            Apply = async (context, claimHeld) =>
            {
                var recorded = context.Document?.ResourceId;
                if (r.InvoiceId is { } given && recorded is not null && !string.Equals(given, recorded, StringComparison.Ordinal))
                {
                    return RejectedResult(r, incoming, $"invoiceId: {given} is not the invoice document {r.DocumentId} was applied to ({recorded})");
                }

                if (IsAlreadyApplied(r.Operation, context.Document?.AppliedVersion) && recorded is not null)
                {
                    return new WorkResult(HandlingOutcome.Applied, Succeeded(r, incoming, resellerId, recorded, r.AccountId, null, alreadyApplied: true), recorded, null);
                }

                if (Target(r, recorded) is not { } target)
                {
                    return RejectedResult(r, incoming, r.Operation == InvoiceOperation.Revoke
                        ? $"invoiceId: ActivePlatform revokes by invoice id only, and no approval of {r.DocumentId} went through Bridge; give invoiceId"
                        : "accountId: either accountId or invoiceId is required");
                }

                if (context.OverwrittenSinceUnansweredCall)
                {
                    // An earlier delivery's call may have been carried out, and another message wrote the invoice after it:
                    // sent again, this message's call would land a second time over that later change.
                    var operation = r.Operation.ToString().ToLowerInvariant();
                    var now = context.Document?.AppliedVersion is { } state && !WorkContext.IsInDoubt(state) ? $"records it {state}" : "has an unanswered call of another message on it";
                    throw new EffectOutcomeUnknownException(
                        $"An earlier attempt of this {operation} of document id '{r.DocumentId}' went unanswered and may have been carried out; since then another message has changed invoice {target.InvoiceId ?? recorded ?? "(by account)"} (Bridge {now}). "
                        + $"Sent again, this {operation} would undo that later change, so it is not sent. Check the invoice in ActivePlatform: if it shows what the ERP wants last, discard this message; if the ERP still wants this {operation}, have it send the {operation} again under a new message id.");
                }

                // Decided on the document's state read with the claim: sent only while the claim has been held since (a stale
                // approve sent after a redelivery approved and a revoke revoked would leave ActivePlatform approved while
                // Bridge reports revoked). Not cancelled once sent: a change ActivePlatform applied must reach the record.
                // Once sent, the call may land after its answer was lost (a gateway's 503, a timeout, a kill): until it can no
                // longer land, the invoice stays claimed and its state in doubt, so its next message neither goes before it nor
                // answers from a state it may have changed (an approval answered "already approved" while a late revoke left
                // the invoice unapproved).
                await context.HoldClaimThroughSendAsync(Effects.EffectTiming.InFlightWindow(activePlatformOptions.Value), claimHeld);
                Invoice invoice;
                try
                {
                    invoice = r.Operation switch
                    {
                        InvoiceOperation.Approve => await ApproveAsync(resellerId, target, r, context.BegunBefore),
                        InvoiceOperation.Complete => await invoices.CompleteInvoiceAsync(resellerId, target, r.DocumentId!, r.BillingDate, CancellationToken.None),
                        _ => await RevokeAsync(resellerId, target.InvoiceId!, r, context.Document?.AppliedVersion),
                    };
                }
                catch (ActivePlatformPermanentException refused) when (context.TookBackHold)
                {
                    // This attempt was refused, but an earlier attempt of this message may still be carried out: never
                    // reported refused. The invoice stays claimed and in doubt until that attempt can no longer land.
                    throw new EffectOutcomeUnknownException(
                        $"ActivePlatform refused this {r.Operation.ToString().ToLowerInvariant()} of document id '{r.DocumentId}' ({refused.Message}), but an earlier attempt of the same message went unanswered and may still be carried out. "
                        + "Check the invoice in ActivePlatform once that attempt can no longer land (the in-flight window after it): if it shows this message's effect, discard this message; otherwise replay it.");
                }
                catch (Exception failed) when (Effects.EffectFailures.ProvesNotApplied(failed))
                {
                    await context.NothingWasSentAsync(CancellationToken.None);
                    throw;
                }

                // An earlier delivery (or in-process retry) of this message may have sent the same call and gone unanswered
                // (a 5xx from a gateway, a timeout, a kill): that call may still be carried out. Were the invoice's next
                // message (a revoke after this approve, an approve after this revoke) sent before it can no longer land, the
                // late call would undo it — ActivePlatform approved while Bridge reports revoked (chaos seed 1242). So the
                // invoice stays claimed until then, counted from now, which is after any earlier send.
                return new WorkResult(
                    HandlingOutcome.Applied,
                    Succeeded(r, incoming, resellerId, invoice.Id, invoice.Attributes.AccountId ?? r.AccountId, invoice.PaymentId, alreadyApplied: false),
                    invoice.Id,
                    new DocumentChange(StateAfter(r.Operation), invoice.Id, Deleted: false))
                {
                    HoldDocumentFor = context.BegunBefore ? Effects.EffectTiming.InFlightWindow(activePlatformOptions.Value) : null,
                };
            },
        }, cancellationToken);
    }

    /// <summary>
    /// Approving an invoice that is completed is refused (422), and so is approving one that carries another document id
    /// (INVOICE-0006) — which is also what ActivePlatform answers when this very message's approval applied earlier, its
    /// answer was lost (or its instance killed before recording it), and the invoice was completed (or revoked and approved
    /// again) since. When an earlier delivery of this message may have sent the approval, such a refusal cannot be told from
    /// one of an approval that never happened, and invoices cannot be read back here: the message is kept for an operator,
    /// never reported refused. On a first delivery nothing of this message can have applied, and the refusal stands.
    /// </summary>
    private async Task<Invoice> ApproveAsync(long resellerId, InvoiceTarget target, InvoiceRequest r, bool begunBefore)
    {
        try
        {
            return await invoices.ApproveInvoiceAsync(resellerId, target, new InvoiceApproval
            {
                DocumentId = r.DocumentId!,
                BillingDate = r.BillingDate,
                ExternalTotal = r.ExternalAmount?.Total,
                ExternalCurrency = r.ExternalAmount?.Currency,
                DueDate = r.DueDate,
            }, CancellationToken.None);
        }
        catch (ActivePlatformPermanentException refused) when (begunBefore && (refused.Status == 422 || refused.Code == "INVOICE-0006"))
        {
            var invoice = target.InvoiceId is { } id ? $"invoice {id}" : FormattableString.Invariant($"the invoice of account {target.AccountId} for {r.BillingDate:yyyy-MM-dd}");
            throw new EffectOutcomeUnknownException(
                $"ActivePlatform refused to approve {invoice} as document id '{r.DocumentId}' ({refused.Message}), but an earlier delivery of this message may have approved it: its answer was never recorded. "
                + $"If ActivePlatform shows the invoice approved with document id '{r.DocumentId}', that approval is this message's: discard this message. Otherwise the approval did not happen: discard it and have the ERP approve again once the invoice allows it.");
        }
    }

    /// <summary>
    /// Revoking restores the invoice's previous document id, so a repeat of a revoke whose answer was lost is refused with
    /// INVOICE-0006. When Bridge itself approved the invoice and saw no revoke, that refusal cannot be told from a revoke
    /// that did happen, and invoices cannot be read back here: the message is kept for an operator, not reported refused.
    /// </summary>
    private async Task<Invoice> RevokeAsync(long resellerId, string invoiceId, InvoiceRequest r, string? state)
    {
        try
        {
            return await invoices.RevokeInvoiceApprovalAsync(resellerId, invoiceId, r.DocumentId!, r.BillingDate, CancellationToken.None);
        }
        catch (ActivePlatformPermanentException refused) when (refused.Code == "INVOICE-0006" && (state is "approved" || WorkContext.IsInDoubt(state)))
        {
            throw new EffectOutcomeUnknownException(
                $"Invoice {invoiceId} no longer carries document id '{r.DocumentId}', but Bridge did not see its approval revoked. If ActivePlatform shows it unapproved, discard this message.");
        }
    }

    private static bool IsAlreadyApplied(InvoiceOperation operation, string? state) => operation switch
    {
        InvoiceOperation.Approve => state is "approved" or "completed",
        InvoiceOperation.Complete => state is "completed",
        _ => state is "revoked",
    };

    private static string StateAfter(InvoiceOperation operation) => operation switch
    {
        InvoiceOperation.Approve => "approved",
        InvoiceOperation.Complete => "completed",
        _ => "revoked",
    };

    private static InvoiceTarget? Target(InvoiceRequest request, string? recorded)
    {
        if (request.InvoiceId is { } id)
        {
            return InvoiceTarget.ById(id);
        }

        if (request.Operation == InvoiceOperation.Revoke)
        {
            return recorded is null ? null : InvoiceTarget.ById(recorded);
        }

        return request.AccountId is { } account ? InvoiceTarget.ByAccount(account) : null;
    }

    protected static List<string> Validate(InvoiceRequest? request)
    {
        var errors = new List<string>();
        if (request is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        if (request.ResellerId is <= 0)
        {
            errors.Add("resellerId: must be positive");
        }

        if (string.IsNullOrWhiteSpace(request.DocumentId))
        {
            errors.Add("documentId: is required (the ERP's invoice number)");
        }
        else if (IdempotencyKeys.CharacterProblem("documentId", request.DocumentId) is { } problem)
        {
            errors.Add(problem);
        }
        else if (request.DocumentId.Length > 128 || request.DocumentId != request.DocumentId.Trim())
        {
            errors.Add("documentId: must be at most 128 characters with no leading or trailing spaces");
        }

        if (request.BillingDate == default)
        {
            errors.Add("billingDate: is required (YYYY-MM-DD, the first day of the billing period)");
        }

        if (request.AccountId is <= 0)
        {
            errors.Add("accountId: must be positive");
        }

        if (IdempotencyKeys.CharacterProblem("invoiceId", request.InvoiceId) is { } invoiceIdProblem)
        {
            errors.Add(invoiceIdProblem);
        }
        else if (request.InvoiceId is not null && (request.InvoiceId.Length is 0 or > 64 || request.InvoiceId.Any(char.IsWhiteSpace)))
        {
            errors.Add("invoiceId: must be ActivePlatform's invoice id (at most 64 characters, no spaces) or absent");
        }

        if (request.Operation != InvoiceOperation.Revoke && request.AccountId is null && request.InvoiceId is null)
        {
            errors.Add("accountId: either accountId or invoiceId is required");
        }

        if (request.ExternalAmount is { } amount)
        {
            if (amount.Total <= 0)
            {
                errors.Add("externalAmount.total: must be positive");
            }

            if (amount.Currency is null || !CurrencyCode().IsMatch(amount.Currency))
            {
                errors.Add("externalAmount.currency: must be a three-letter ISO 4217 code such as EUR");
            }
        }

        if (request.DueDate is { } due && request.BillingDate != default && due < request.BillingDate)
        {
            errors.Add("dueDate: must not be before billingDate");
        }

        return errors;
    }

    private WorkResult RejectedResult(InvoiceRequest request, IncomingMessage incoming, string error)
        => new(HandlingOutcome.Rejected, Rejected(request.DocumentId, request.MessageType, incoming, Rejection.Invalid([error])), null, null);

    private IResultEvent Succeeded(InvoiceRequest request, IncomingMessage incoming, long resellerId, string invoiceId, long? accountId, string? paymentId, bool alreadyApplied)
        => request.Operation switch
        {
            InvoiceOperation.Approve => new InvoiceApproved
            {
                Key = request.DocumentId!, MessageId = incoming.IdempotencyKey!, CorrelationId = incoming.CorrelationId, OccurredAt = clock.GetUtcNow(),
                ResellerId = resellerId, InvoiceId = invoiceId, AccountId = accountId, BillingDate = request.BillingDate, AlreadyApplied = alreadyApplied,
            },
            InvoiceOperation.Complete => new InvoiceCompleted
            {
                Key = request.DocumentId!, MessageId = incoming.IdempotencyKey!, CorrelationId = incoming.CorrelationId, OccurredAt = clock.GetUtcNow(),
                ResellerId = resellerId, InvoiceId = invoiceId, AccountId = accountId, BillingDate = request.BillingDate, PaymentId = paymentId, AlreadyApplied = alreadyApplied,
            },
            _ => new InvoiceApprovalRevoked
            {
                Key = request.DocumentId!, MessageId = incoming.IdempotencyKey!, CorrelationId = incoming.CorrelationId, OccurredAt = clock.GetUtcNow(),
                ResellerId = resellerId, InvoiceId = invoiceId, AccountId = accountId, BillingDate = request.BillingDate, AlreadyApplied = alreadyApplied,
            },
        };

    protected InvoiceRejected Rejected(string? key, string messageType, IncomingMessage incoming, Rejection rejection) => new()
    {
        Key = key ?? string.Empty,
        MessageId = incoming.IdempotencyKey ?? string.Empty,
        CorrelationId = incoming.CorrelationId,
        OccurredAt = clock.GetUtcNow(),
        MessageType = messageType,
        Reason = rejection.Reason,
        Description = rejection.Description,
        ValidationErrors = rejection.ValidationErrors,
        ActivePlatformError = rejection.ActivePlatformError,
    };

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();
}
