using System.Runtime.CompilerServices;
using Bridge.Contracts;
using Bridge.Host.Features.Corrections;
using MassTransit;

namespace Bridge.Demo;

/// <summary>The quick start's corrections: create, the same correction republished, approve by the ERP key, a refused decline.</summary>
internal sealed class CorrectionDemoSteps(IBus bus, DemoRunner.ResultCollector results)
{
    private const long AccountId = 505;

    public async IAsyncEnumerable<(string Step, string Expected, string Actual, bool Ok)> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The finance workflow's subscription to the correction events, beside the closing-document one.
        var workflow = bus.ConnectReceiveEndpoint("demo-corrections-workflow", endpoint =>
        {
            endpoint.Handler<CorrectionCreated>(context => results.Add(context.Message));
            endpoint.Handler<CorrectionApproved>(context => results.Add(context.Message));
            endpoint.Handler<CorrectionDeclined>(context => results.Add(context.Message));
            endpoint.Handler<CorrectionRejected>(context => results.Add(context.Message));
        });
        await workflow.Ready;

        var key = $"demo-corr-{Guid.NewGuid():N}";
        var create = new CreateCorrection
        {
            Key = key,
            AccountId = AccountId,
            IncludedInvoice = true,
            SubscriptionId = 3010001,
            PeriodFrom = new DateOnly(2026, 10, 1),
            PeriodTo = new DateOnly(2026, 10, 31),
            Total = -150.75m,
            Comment = "Payment cancelled in the platform (1C)",
        };

        var created = await SendAndAwaitAsync<CorrectionCreated>(CreateCorrectionConsumer.Queue, create, cancellationToken);
        yield return Step("new correction", "Created, approval_required", created, e => e is CorrectionCreated { Status: "approval_required", AlreadyApplied: false });

        var again = await SendAndAwaitAsync<CorrectionCreated>(CreateCorrectionConsumer.Queue, create, cancellationToken);
        yield return Step("same correction, new message id", "Created, already applied, same id", again, e => e is CorrectionCreated { AlreadyApplied: true } c && c.CorrectionId == ((CorrectionCreated)created).CorrectionId);

        var approved = await SendAndAwaitAsync<CorrectionApproved>(ApproveCorrectionConsumer.Queue, new ApproveCorrection { Key = key }, cancellationToken);
        yield return Step("approve it by the ERP key", "Approved", approved, e => e is CorrectionApproved { AlreadyApplied: false, ApprovedAt: not null });

        var declined = await SendAndAwaitAsync<CorrectionRejected>(DeclineCorrectionConsumer.Queue, new DeclineCorrection { Key = key }, cancellationToken);
        yield return Step("decline it after approval", "Rejected by ActivePlatform (422)", declined, e => e is CorrectionRejected { Reason: RejectionReason.RejectedByActivePlatform, ActivePlatformError.Status: 422 });

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
        CorrectionCreated created => $"Created, {created.Status}, id {created.CorrectionId}{(created.AlreadyApplied ? ", already applied" : "")}",
        CorrectionApproved approved => $"Approved on {approved.ApprovedAt:yyyy-MM-dd}, id {approved.CorrectionId}",
        CorrectionDeclined declined => $"Declined, id {declined.CorrectionId}",
        CorrectionRejected rejected => $"Rejected, {rejected.Reason} ({rejected.ActivePlatformError?.Status})",
        _ => e.GetType().Name,
    };
}
