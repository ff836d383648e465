using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Postpaid invoices, per ERP document id: every success that says it acted is backed by that operation in ActivePlatform;
/// no operation happened more often than successes (and unsettled messages) explain; a valid step is not refused; and once
/// every message is answered, the invoice is in the state the last success describes (approved, completed, revoked).
/// An approval repeated with the same document id changes nothing in ActivePlatform and is not counted as a second one.
/// An operation answered "already applied" explains one such operation when it happened while that message was in hand (see
/// <see cref="WhileHandled"/>).
/// </summary>
public sealed class InvoiceChecks : IFlowCheck
{
    public IEnumerable<Violation> Check(MessageIndex index)
    {
        foreach (var document in FlowFacts.BySubject(index, Flow.Invoices))
        {
            var messages = document.ToList();
            var invoice = Invoice(index, messages);
            if (invoice is null)
            {
                continue;
            }

            // ActivePlatform takes a repeated approval with the same document id as a repeat (no new state), so only changes count.
            var effects = index.Run.Effects.Where(e => e.Subject == invoice.Id && e.Kind.StartsWith("invoice.", StringComparison.Ordinal)).OrderBy(e => e.Sequence).ToList();
            effects = [.. effects.Where((e, i) => i == 0 || effects[i - 1].Kind != e.Kind)];
            var successes = FlowFacts.Successes(index, messages);
            foreach (var operation in new[] { "approved", "completed", "revoked" })
            {
                var reported = successes.Where(s => Operation(s) == operation).ToList();
                var acted = reported.Count(s => !AlreadyApplied(s));
                var done = effects.Count(e => e.Kind == "invoice." + operation);
                var unsettled = messages.Count(m => Operation(m.Payload!) == operation && index.Outcome(m).Result is null);
                var ownEarlierDelivery = reported.Count(s => AlreadyApplied(s) && effects.Any(e => e.Kind == "invoice." + operation && WhileHandled(index, s, e)));
                if (acted > 0 && done == 0)
                {
                    yield return new Violation(Invariants.EffectBehindSuccess, document.Key, $"{acted} success(es) say the invoice was {operation}; ActivePlatform never did it", messages);
                }

                if (done > acted + unsettled + ownEarlierDelivery)
                {
                    yield return new Violation(Invariants.EffectCount, document.Key,
                        $"ActivePlatform {operation} the invoice {done} time(s); {acted} success(es) say so{(ownEarlierDelivery > 0 ? $" ({ownEarlierDelivery} more answered already applied after their own earlier delivery did it)" : "")}", messages);
                }
            }

            foreach (var (message, refusal) in FlowFacts.RefusedByActivePlatform(index, messages).Where(r => Expectations.Of(index, r.Message) == Expectation.Valid))
            {
                yield return new Violation(Invariants.RightOutcome, document.Key, $"a valid step was refused: {EventText.Describe(refusal)}", [message]);
            }

            // An answer "already applied" changes nothing, so the state is the last success that acted.
            var acting = successes.Where(s => !AlreadyApplied(s)).ToList();
            if (!FlowFacts.AnyUnsettled(index, messages) && acting.Count > 0)
            {
                var last = Operation(acting[^1]);
                var holds = last switch
                {
                    "approved" => invoice.Approved && invoice.PaymentStatus != "completed",
                    "completed" => invoice.PaymentStatus == "completed",
                    _ => !invoice.Approved,
                };
                if (!holds)
                {
                    yield return new Violation(Invariants.Figures, document.Key,
                        $"the last success that acted says {last}; invoice {invoice.Id} is approved={invoice.Approved}, payment {invoice.PaymentStatus}", messages);
                }
            }
        }
    }

    /// <summary>
    /// True when <paramref name="effect"/> happened between the first publication of the message <paramref name="success"/>
    /// answers and that answer. A delivery that reached ActivePlatform but could not record it (database down, instance
    /// killed) leaves the effect behind; when a later step has moved the invoice on before the retry or replay comes (the
    /// ERP stops waiting for an answer), that retry is answered "already applied" — by the contract, since the invoice is
    /// past that step — and the effect is this message's own.
    /// </summary>
    private static bool WhileHandled(MessageIndex index, IResultEvent success, SandboxEffect effect)
    {
        var published = index.Members(success.MessageId).SelectMany(index.Publications).Select(p => (DateTimeOffset?)p.At).Min();
        return published is { } first && effect.At >= first && effect.At <= success.OccurredAt;
    }

    private static SandboxInvoice? Invoice(MessageIndex index, List<PlannedMessage> messages)
    {
        foreach (var payload in messages.Select(m => m.Payload))
        {
            var (invoiceId, accountId) = payload switch
            {
                ApproveInvoice a => (a.InvoiceId, a.AccountId),
                CompleteInvoice c => (c.InvoiceId, c.AccountId),
                RevokeInvoiceApproval r => (r.InvoiceId, r.AccountId),
                _ => (null, null),
            };
            var invoice = index.Run.Sandbox.Invoices.FirstOrDefault(i => i.Id == invoiceId || (invoiceId is null && i.AccountId == accountId));
            if (invoice is not null)
            {
                return invoice;
            }
        }

        return null;
    }

    private static string? Operation(object payloadOrEvent) => payloadOrEvent switch
    {
        ApproveInvoice or InvoiceApproved => "approved",
        CompleteInvoice or InvoiceCompleted => "completed",
        RevokeInvoiceApproval or InvoiceApprovalRevoked => "revoked",
        _ => null,
    };

    private static bool AlreadyApplied(IResultEvent e) => e switch
    {
        InvoiceApproved a => a.AlreadyApplied,
        InvoiceCompleted c => c.AlreadyApplied,
        InvoiceApprovalRevoked r => r.AlreadyApplied,
        _ => false,
    };
}
