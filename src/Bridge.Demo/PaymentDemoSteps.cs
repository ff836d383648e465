using System.Runtime.CompilerServices;
using Bridge.Contracts;
using Bridge.Host.Features.Payments;
using MassTransit;

namespace Bridge.Demo;

/// <summary>
/// The payment part of the quick start: a top-up, a partial payment by number and its statement line republished, an
/// overpayment of a seeded payment, completion by id, a cancel, and a cancel ActivePlatform refuses.
/// </summary>
internal sealed class PaymentDemoSteps(IBus bus, DemoRunner.ResultCollector results)
{
    // The sandbox seeds payment 002016 of reseller 1: 100.00 USD, waiting for payment.
    private const string SeededWaitingNumber = "002016";

    public async IAsyncEnumerable<(string Step, string Expected, string Actual, bool Ok)> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var workflow = bus.ConnectReceiveEndpoint("demo-finance-workflow-payments", endpoint =>
        {
            endpoint.Handler<PaymentCompleted>(context => results.Add(context.Message));
            endpoint.Handler<PaymentRegistered>(context => results.Add(context.Message));
            endpoint.Handler<PaymentCancelled>(context => results.Add(context.Message));
            endpoint.Handler<PaymentRejected>(context => results.Add(context.Message));
        });
        await workflow.Ready;
        try
        {
            var topUpKey = $"demo-topup-{Guid.NewGuid():N}";
            var registered = (PaymentRegistered)await SendAndAwaitAsync<PaymentRegistered>(
                RegisterPaymentConsumer.Queue, new RegisterPayment { Key = topUpKey, AccountId = 523, Total = 500m, Comment = "top-up payment", Purpose = "prepay payment" }, cancellationToken);
            yield return Step("register a top-up of 500.00", "Registered, waiting_for_payment", registered, e => e is PaymentRegistered { PaymentStatus: "waiting_for_payment", AlreadyApplied: false });

            var line = $"BS-{DateTime.UtcNow:yyyyMMdd}-{Guid.NewGuid():N}"[..24];
            var partial = ByNumber(registered.PaymentNumber ?? "", 200m, line);
            var paid = await SendAndAwaitAsync<PaymentCompleted>(CompletePaymentConsumer.Queue, partial, cancellationToken);
            yield return Step("bank statement: 200.00 of it", "Completed event, PartiallyPaid", paid, e => e is PaymentCompleted { Outcome: PaymentCompletionOutcome.PartiallyPaid, CorrectionId: not null });

            var again = await SendAndAwaitAsync<PaymentCompleted>(CompletePaymentConsumer.Queue, partial, cancellationToken);
            yield return Step("same statement line, new msg id", "AlreadyApplied, no new correction", again, e => e is PaymentCompleted { AlreadyApplied: true } c && c.CorrectionId == ((PaymentCompleted)paid).CorrectionId);

            var over = (PaymentCompleted)await SendAndAwaitAsync<PaymentCompleted>(CompletePaymentConsumer.Queue, ByNumber(SeededWaitingNumber, 120m, $"BS-{Guid.NewGuid():N}"[..20]), cancellationToken);
            yield return Step($"120.00 paid for {SeededWaitingNumber} (100.00)", "Overpaid, correction for the 20.00", over, e => e is PaymentCompleted { Outcome: PaymentCompletionOutcome.Overpaid, PaymentStatus: "completed" });

            var cancelled = await SendAndAwaitAsync<PaymentCancelled>(CancelPaymentConsumer.Queue, new CancelPayment { PaymentId = registered.PaymentId }, cancellationToken);
            yield return Step("cancel the partly paid top-up", "Cancelled", cancelled, e => e is PaymentCancelled { PaymentStatus: "cancelled" });

            var second = (PaymentRegistered)await SendAndAwaitAsync<PaymentRegistered>(
                RegisterPaymentConsumer.Queue, new RegisterPayment { Key = $"demo-topup-{Guid.NewGuid():N}", AccountId = 685, Total = 75m, Comment = "top-up payment" }, cancellationToken);
            var byId = await SendAndAwaitAsync<PaymentCompleted>(
                CompletePaymentConsumer.Queue, new CompletePayment { Mode = PaymentCompletionMode.ById, PaymentId = second.PaymentId, PaymentMethodId = 2 }, cancellationToken);
            yield return Step("complete another top-up by id", "Completed", byId, e => e is PaymentCompleted { Outcome: PaymentCompletionOutcome.Completed, PaymentStatus: "completed" });

            var refused = await SendAndAwaitAsync<PaymentRejected>(CancelPaymentConsumer.Queue, new CancelPayment { PaymentId = over.PaymentId ?? "0" }, cancellationToken);
            yield return Step("cancel the completed payment", "Rejected by ActivePlatform (422)", refused, e => e is PaymentRejected { Reason: RejectionReason.RejectedByActivePlatform, ActivePlatformError.Status: 422 });
        }
        finally
        {
            await workflow.StopAsync(CancellationToken.None);
        }
    }

    private static CompletePayment ByNumber(string number, decimal amount, string line) => new()
    {
        Mode = PaymentCompletionMode.ByPaymentNumber,
        PaymentNumber = number,
        PaymentMethodId = 2,
        Amount = amount,
        CurrencyCode = "USD",
        ExternalTransactionId = line,
    };

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
        PaymentCompleted c => $"{c.Outcome}, {c.PaymentStatus}{(c.CorrectionId is null ? "" : $", correction {c.CorrectionId}")}{(c.AlreadyApplied ? ", already applied" : "")}",
        PaymentRegistered r => $"Registered {r.PaymentNumber}, {r.PaymentStatus}",
        PaymentCancelled c => $"Cancelled {c.PaymentId}{(c.AlreadyApplied ? ", already applied" : "")}",
        PaymentRejected r => $"Rejected, {r.Reason} {r.ActivePlatformError?.Status}",
        _ => e.GetType().Name,
    };
}
