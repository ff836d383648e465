using System.Runtime.CompilerServices;
using Bridge.Contracts;
using Bridge.Host.Features.Invoices;
using MassTransit;

namespace Bridge.Demo;

/// <summary>
/// The quick start's postpaid invoices, on the sandbox's seeded invoices of reseller 1: approve account 167's October invoice
/// with the ERP's number, the approval republished, revoke and approve again, complete; then account 523's invoice, whose
/// payment was cancelled, refused with INVOICE-0017.
/// </summary>
internal sealed class InvoiceDemoSteps(IBus bus, DemoRunner.ResultCollector results)
{
    private static readonly DateOnly October = new(2026, 10, 1);

    public async IAsyncEnumerable<(string Step, string Expected, string Actual, bool Ok)> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var workflow = bus.ConnectReceiveEndpoint("demo-invoices-workflow", endpoint =>
        {
            endpoint.Handler<InvoiceApproved>(context => results.Add(context.Message));
            endpoint.Handler<InvoiceCompleted>(context => results.Add(context.Message));
            endpoint.Handler<InvoiceApprovalRevoked>(context => results.Add(context.Message));
            endpoint.Handler<InvoiceRejected>(context => results.Add(context.Message));
        });
        await workflow.Ready;

        var documentId = $"NS-{Guid.NewGuid():N}"[..16];
        var approve = new ApproveInvoice
        {
            DocumentId = documentId,
            BillingDate = October,
            AccountId = 167,
            ExternalAmount = new Money(990.10m, "EUR"),
            DueDate = new DateOnly(2026, 11, 15),
        };

        var approved = await SendAndAwaitAsync<InvoiceApproved>(ApproveInvoiceConsumer.Queue, approve, cancellationToken);
        yield return Step("approve 167's October invoice", "Approved with the ERP number", approved, e => e is InvoiceApproved { AlreadyApplied: false });

        var again = await SendAndAwaitAsync<InvoiceApproved>(ApproveInvoiceConsumer.Queue, approve, cancellationToken);
        yield return Step("same approval, new message id", "Approved, already applied", again, e => e is InvoiceApproved { AlreadyApplied: true });

        var revoked = await SendAndAwaitAsync<InvoiceApprovalRevoked>(
            RevokeInvoiceApprovalConsumer.Queue, new RevokeInvoiceApproval { DocumentId = documentId, BillingDate = October }, cancellationToken);
        yield return Step("revoke it (by the ERP number)", "Approval revoked", revoked, e => e is InvoiceApprovalRevoked { AlreadyApplied: false });

        var reapproved = await SendAndAwaitAsync<InvoiceApproved>(ApproveInvoiceConsumer.Queue, approve, cancellationToken);
        yield return Step("approve it again", "Approved (a new approval)", reapproved, e => e is InvoiceApproved { AlreadyApplied: false });

        var completed = await SendAndAwaitAsync<InvoiceCompleted>(
            CompleteInvoiceConsumer.Queue, new CompleteInvoice { DocumentId = documentId, BillingDate = October, AccountId = 167 }, cancellationToken);
        yield return Step("customer paid: complete it", "Completed, payment completed", completed, e => e is InvoiceCompleted { AlreadyApplied: false });

        var cancelledDocument = $"NS-{Guid.NewGuid():N}"[..16];
        var refused = await SendAndAwaitAsync<InvoiceRejected>(
            CompleteInvoiceConsumer.Queue, new CompleteInvoice { DocumentId = cancelledDocument, BillingDate = October, AccountId = 523 }, cancellationToken);
        yield return Step("complete 523's (payment cancelled)", "Rejected, INVOICE-0017", refused, e => e is InvoiceRejected { ActivePlatformError.Code: "INVOICE-0017" });

        await workflow.StopAsync(cancellationToken);
    }

    private async Task<IResultEvent> SendAndAwaitAsync<TEvent>(string queue, object message, CancellationToken cancellationToken)
        where TEvent : IResultEvent
    {
        var messageId = NewId.NextGuid();
        var id = messageId.ToString("D");
        var arrival = results.WaitAsync(e => e is TEvent && e.MessageId == id, cancellationToken);
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:bridge.{queue}"));
        Console.WriteLine($"  -> {message.GetType().Name} to bridge.{queue} (message id {id})");
        await endpoint.Send(message, message.GetType(), Pipe.Execute<SendContext>(context => context.MessageId = messageId), cancellationToken);
        return await arrival;
    }

    private static (string, string, string, bool) Step(string step, string expected, IResultEvent actual, Func<IResultEvent, bool> ok)
        => (step, expected, Describe(actual), ok(actual));

    private static string Describe(IResultEvent e) => e switch
    {
        InvoiceApproved approved => $"Approved, invoice {approved.InvoiceId}{(approved.AlreadyApplied ? ", already applied" : "")}",
        InvoiceCompleted completed => $"Completed, invoice {completed.InvoiceId}, payment {completed.PaymentId}",
        InvoiceApprovalRevoked revoked => $"Approval revoked, invoice {revoked.InvoiceId}{(revoked.AlreadyApplied ? ", already applied" : "")}",
        InvoiceRejected rejected => $"Rejected, {rejected.Reason} {rejected.ActivePlatformError?.Code}",
        _ => e.GetType().Name,
    };
}
