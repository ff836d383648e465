using System.Runtime.CompilerServices;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using MassTransit;

namespace Bridge.Demo;

/// <summary>The ERP messages the quick start publishes, each with the outcome it must have.</summary>
internal sealed class DemoScenario(IBus bus, DemoRunner.ResultCollector results, ConsumeWatcher consumed)
{
    public static readonly string DocumentKey = $"demo-{Guid.NewGuid():N}";
    private static readonly string AsyncKey = $"async-{Guid.NewGuid():N}";
    private const long AccountId = 505;

    // A minimal PDF: enough for ActivePlatform's base64-with-MIME-type check.
    private static readonly string Pdf = Convert.ToBase64String("%PDF-1.4\n%demo closing document\n%%EOF\n"u8.ToArray());

    public async IAsyncEnumerable<(string Step, string Expected, string Actual, bool Ok)> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var first = NewId.NextGuid();
        var created = await SendAndAwaitAsync<ClosingDocumentSent>(SendClosingDocumentConsumer.Queue, Document(DocumentKey, revision: 1, total: 1200.00m), first, cancellationToken);
        yield return Step("new closing document (revision 1)", "Sent, Created", created, e => e is ClosingDocumentSent { Outcome: ClosingDocumentWriteOutcome.Created });

        var updated = await SendAndAwaitAsync<ClosingDocumentSent>(SendClosingDocumentConsumer.Queue, Document(DocumentKey, revision: 2, total: 1250.00m), NewId.NextGuid(), cancellationToken);
        yield return Step("its update (revision 2)", "Sent, Updated, same id", updated, e => e is ClosingDocumentSent { Outcome: ClosingDocumentWriteOutcome.Updated } sent && sent.ExternalInvoiceId == ((ClosingDocumentSent)created).ExternalInvoiceId);

        var before = results.Count(e => e.Key == DocumentKey);
        await SendAsync(SendClosingDocumentConsumer.Queue, Document(DocumentKey, revision: 1, total: 1200.00m), first, cancellationToken);
        await consumed.WhenConsumed(first, times: 2, cancellationToken);
        var after = results.Count(e => e.Key == DocumentKey);
        yield return ("duplicate delivery of revision 1", "no second effect, no event", after == before ? "no event" : $"{after - before} event(s)", after == before);

        var conflict = await SendAndAwaitAsync<ClosingDocumentRejected>(SendClosingDocumentConsumer.Queue, Document(DocumentKey, revision: 1, total: 9999.00m), first, cancellationToken);
        yield return Step("same message id, other payload", "Rejected, IdempotencyConflict", conflict, e => e is ClosingDocumentRejected { Reason: RejectionReason.IdempotencyConflict });

        var stale = await SendAndAwaitAsync<ClosingDocumentSkipped>(SendClosingDocumentConsumer.Queue, Document(DocumentKey, revision: 1, total: 1200.00m), NewId.NextGuid(), cancellationToken);
        yield return Step("revision 1 again, arriving late", "Skipped (older than revision 2)", stale, e => e is ClosingDocumentSkipped);

        var asyncSent = await SendAndAwaitAsync<ClosingDocumentSent>(SendClosingDocumentConsumer.Queue, Document(AsyncKey, revision: 1, total: 310.50m), NewId.NextGuid(), cancellationToken);
        yield return Step("document answered by an async task", "Sent, Created after polling", asyncSent, e => e is ClosingDocumentSent { Outcome: ClosingDocumentWriteOutcome.Created });

        var invalidKey = $"invalid-{Guid.NewGuid():N}";
        var invalid = await SendAndAwaitAsync<ClosingDocumentRejected>(SendClosingDocumentConsumer.Queue, Document(invalidKey, revision: 1, total: 1m) with { Name = "", File = null! }, NewId.NextGuid(), cancellationToken);
        yield return Step("invalid message (no name, no file)", "Rejected, InvalidMessage", invalid, e => e is ClosingDocumentRejected { Reason: RejectionReason.InvalidMessage });

        var deleted = await SendAndAwaitAsync<ClosingDocumentDeleted>(DeleteClosingDocumentConsumer.Queue, new DeleteClosingDocument { AccountId = AccountId, Key = AsyncKey }, NewId.NextGuid(), cancellationToken);
        yield return Step("delete the async document", "Deleted, was present", deleted, e => e is ClosingDocumentDeleted { WasPresent: true });

        var runKey = $"notify-{DateTime.UtcNow:yyyyMM}-{Guid.NewGuid():N}";
        var notified = await SendAndAwaitAsync<ClosingDocumentsNotified>(
            NotifyClosingDocumentsConsumer.Queue,
            new NotifyClosingDocuments { Key = runKey, AccountIds = [AccountId], StartDate = new DateOnly(2026, 10, 1), EndDate = new DateOnly(2026, 10, 31) },
            NewId.NextGuid(),
            cancellationToken);
        yield return Step("notify accounts for October", "Notified", notified, e => e is ClosingDocumentsNotified);

        await foreach (var step in new CurrencyRateDemoSteps(bus, results).RunAsync(cancellationToken))
        {
            yield return step;
        }

        await foreach (var step in new CorrectionDemoSteps(bus, results).RunAsync(cancellationToken))
        {
            yield return step;
        }

        await foreach (var step in new InvoiceDemoSteps(bus, results).RunAsync(cancellationToken))
        {
            yield return step;
        }

        await foreach (var step in new PaymentDemoSteps(bus, results).RunAsync(cancellationToken))
        {
            yield return step;
        }
    }

    private static SendClosingDocument Document(string key, long revision, decimal total) => new()
    {
        AccountId = AccountId,
        Key = key,
        Type = ClosingDocumentType.Act,
        Name = $"Act {key[..12]} rev {revision}",
        Amount = new Money(total, "EUR"),
        StartDate = new DateOnly(2026, 10, 1),
        EndDate = new DateOnly(2026, 10, 31),
        File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = Pdf, FileName = "act.pdf" },
        Revision = revision,
    };

    private async Task<IResultEvent> SendAndAwaitAsync<TEvent>(string queue, object message, Guid messageId, CancellationToken cancellationToken)
        where TEvent : IResultEvent
    {
        var id = messageId.ToString("D");
        var arrival = results.WaitAsync(e => e is TEvent && e.MessageId == id, cancellationToken);
        await SendAsync(queue, message, messageId, cancellationToken);
        return await arrival;
    }

    private async Task SendAsync(string queue, object message, Guid messageId, CancellationToken cancellationToken)
    {
        var prefix = "bridge";
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{prefix}.{queue}"));
        Console.WriteLine($"  -> {message.GetType().Name} to {prefix}.{queue} (message id {messageId:D})");
        await endpoint.Send(message, message.GetType(), Pipe.Execute<SendContext>(context => context.MessageId = messageId), cancellationToken);
    }

    private static (string, string, string, bool) Step(string step, string expected, IResultEvent actual, Func<IResultEvent, bool> ok)
        => (step, expected, Describe(actual), ok(actual));

    private static string Describe(IResultEvent e) => e switch
    {
        ClosingDocumentSent sent => $"Sent, {sent.Outcome}, id {sent.ExternalInvoiceId}",
        ClosingDocumentRejected rejected => $"Rejected, {rejected.Reason}",
        ClosingDocumentSkipped skipped => $"Skipped ({skipped.SkippedVersion})",
        ClosingDocumentDeleted deleted => $"Deleted, was present: {deleted.WasPresent}",
        ClosingDocumentsNotified => "Notified",
        _ => e.GetType().Name,
    };
}
