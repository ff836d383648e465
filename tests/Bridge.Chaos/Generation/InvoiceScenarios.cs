using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// A postpaid invoice managed by the ERP: approve, then complete; approve, then revoke; approve, revoke and approve again;
/// approve only; or a complete that was never approved (refused). Each step follows the previous one's answer, as the ERP
/// would send it; steps are delivered twice and republished under new ids. Approve and complete address the invoice by its
/// account or by its id; a revoke by id, or by the approval Bridge recorded.
/// </summary>
public sealed class InvoiceScenarios : ScenarioFamily
{
    private static readonly string[][] Stories =
    [
        ["approve", "complete"], ["approve", "revoke"], ["approve", "revoke", "approve"], ["approve"], ["complete"],
    ];

    private int _invoices;

    public override Flow Flow => Flow.Invoices;

    public override double Weight => 1;

    public override IScenario Plan(GenerationContext context)
    {
        var n = ++_invoices;
        var documentId = context.Keys.Key("ERP-INV-", n);
        var invoice = context.World.AddInvoice(new InvoiceSpec { AccountId = 80_000 + n, BillingDate = new DateOnly(2026, 10, 1), Total = 100m + n });
        var steps = context.Pick(Stories).Select(kind => new Step(kind, ById: context.Chance(0.4), Duplicate: context.Chance(0.15), Republish: context.Chance(0.12))).ToList();
        var size = steps.Sum(s => 1 + (s.Duplicate ? 1 : 0) + (s.Republish ? 1 : 0));
        return new Scenario(size, c => Emit(c, documentId, invoice, steps));
    }

    private sealed record Step(string Kind, bool ById, bool Duplicate, bool Republish);

    private IEnumerable<Publication> Emit(GenerationContext context, string documentId, InvoiceSpec spec, List<Step> steps)
    {
        var invoice = spec.Invoice;
        string? previous = null;
        foreach (var (step, index) in steps.Select((s, i) => (s, i)))
        {
            var invoiceId = step.ById ? invoice.Id : null;
            long? accountId = step.ById ? null : invoice.AccountId;
            object message = step.Kind switch
            {
                "approve" => new ApproveInvoice { DocumentId = documentId, BillingDate = invoice.FromDate, AccountId = accountId, InvoiceId = invoiceId },
                "complete" => new CompleteInvoice { DocumentId = documentId, BillingDate = invoice.FromDate, AccountId = accountId, InvoiceId = invoiceId },
                _ => new RevokeInvoiceApproval { DocumentId = documentId, BillingDate = invoice.FromDate, InvoiceId = invoiceId },
            };
            var refused = step.Kind == "complete" && index == 0;
            var expectation = refused ? Expectation.Refused : Expectation.Valid;
            var what = string.Create(CultureInfo.InvariantCulture, $"{step.Kind} invoice {invoice.Id} as {documentId} (step {index + 1} of {steps.Count}{(refused ? ", never approved" : "")})");
            var original = context.Message(Flow, message, documentId, what, expectation, after: previous);
            foreach (var publication in GenerationContext.Publish(original, step.Duplicate))
            {
                yield return publication;
            }

            if (step.Republish)
            {
                yield return new Publication(context.Message(Flow, message, documentId, what + ", republished under a new id", expectation, after: previous), 0);
            }

            previous = original.IdempotencyKey;
        }
    }
}
