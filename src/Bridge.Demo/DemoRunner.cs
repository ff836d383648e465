using System.Collections.Concurrent;
using Bridge.Contracts;
using Bridge.Host;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Hosting;
using Bridge.Sandbox;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bridge.Demo;

/// <summary>
/// The quick start: the real pipeline on embedded defaults — MassTransit's in-memory transport, a SQLite file and the
/// ActivePlatform sandbox in-process. Publishes sample ERP messages, prints each result event as it arrives and a summary,
/// and exits 0 only if every expected outcome happened.
/// </summary>
public static class DemoRunner
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var workDirectory = Directory.CreateTempSubdirectory("bridge-demo-");
        Console.WriteLine("Bridge quick start: the real pipeline on the in-memory transport, SQLite and the in-process sandbox");
        Console.WriteLine($"  database: {Path.Combine(workDirectory.FullName, "bridge.db")}");

        await using var sandbox = await SandboxServer.StartAsync(new SandboxSettings
        {
            Async = new AsyncModeSettings { Mode = AsyncWriteMode.KeyPattern, KeyPattern = "^async-", PollsToComplete = 3 },
        }, stop.Token);
        Console.WriteLine($"  sandbox:  {sandbox.BaseAddress}");

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bridge:Messaging:Transport"] = "InMemory",
            ["Bridge:Storage:Provider"] = "Sqlite",
            ["Bridge:Storage:ConnectionString"] = $"Data Source={Path.Combine(workDirectory.FullName, "bridge.db")}",
            ["Bridge:Outbox:PollInterval"] = "00:00:05",
            ["ActivePlatform:BaseUrl"] = sandbox.BaseAddress.ToString(),
            ["ActivePlatform:ApiToken"] = SandboxSettings.DefaultToken,
            ["ActivePlatform:ResellerId"] = "1",
            ["ActivePlatform:AsyncTaskPolling:InitialDelay"] = "00:00:00.100",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Bridge"] = "Warning",
        });
        builder.AddBridge();
        using var host = builder.Build();
        await host.StartAsync(stop.Token);

        var bus = host.Services.GetRequiredService<IBus>();
        var results = new ResultCollector();
        var consumed = new ConsumeWatcher();
        bus.ConnectConsumeObserver(consumed);
        var workflow = bus.ConnectReceiveEndpoint("demo-finance-workflow", endpoint =>
        {
            endpoint.Handler<ClosingDocumentSent>(context => results.Add(context.Message));
            endpoint.Handler<ClosingDocumentSkipped>(context => results.Add(context.Message));
            endpoint.Handler<ClosingDocumentDeleted>(context => results.Add(context.Message));
            endpoint.Handler<ClosingDocumentsNotified>(context => results.Add(context.Message));
            endpoint.Handler<ClosingDocumentRejected>(context => results.Add(context.Message));
        });
        await workflow.Ready;

        var summary = new List<(string Step, string Expected, string Actual, bool Ok)>();
        var scenario = new DemoScenario(bus, results, consumed);
        try
        {
            await foreach (var step in scenario.RunAsync(stop.Token))
            {
                summary.Add(step);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            summary.Add(("(demo)", "every step to finish", ex.Message, false));
        }

        var documents = await sandbox.Control.GetCallsAsync("POST", "external_invoices", DemoScenario.DocumentKey, stop.Token);
        var oneCreation = documents.Count(c => c.Status is >= 200 and < 300) == 1;
        summary.Add(("ActivePlatform effects", "exactly one POST for the document", $"{documents.Count} POST(s)", oneCreation));

        Console.WriteLine();
        Console.WriteLine("Summary");
        Console.WriteLine($"  {"step",-34} {"expected",-44} {"actual",-44} ok");
        foreach (var (step, expected, actual, ok) in summary)
        {
            Console.WriteLine($"  {step,-34} {Trim(expected, 44),-44} {Trim(actual, 44),-44} {(ok ? "yes" : "NO")}");
        }

        var allOk = summary.All(s => s.Ok);
        Console.WriteLine();
        Console.WriteLine(allOk ? "Every expected outcome happened." : "Some expected outcomes did NOT happen.");

        await workflow.StopAsync(CancellationToken.None);
        await host.StopAsync(CancellationToken.None);
        try
        {
            workDirectory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; the temp directory is left behind, nothing else.
        }

        return allOk ? 0 : 1;
    }

    private static string Trim(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    /// <summary>Result events as they arrive, printed, and awaitable by a predicate.</summary>
    internal sealed class ResultCollector
    {
        private readonly ConcurrentQueue<IResultEvent> _events = new();
        private readonly ConcurrentDictionary<Guid, (Func<IResultEvent, bool> Match, TaskCompletionSource<IResultEvent> Done)> _waiters = new();

        public Task Add(IResultEvent resultEvent)
        {
            Console.WriteLine($"  <- {Describe(resultEvent)}");
            _events.Enqueue(resultEvent);
            foreach (var (id, waiter) in _waiters)
            {
                if (waiter.Match(resultEvent) && _waiters.TryRemove(id, out _))
                {
                    waiter.Done.TrySetResult(resultEvent);
                }
            }

            return Task.CompletedTask;
        }

        public async Task<IResultEvent> WaitAsync(Func<IResultEvent, bool> match, CancellationToken cancellationToken)
        {
            var done = new TaskCompletionSource<IResultEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            var id = Guid.NewGuid();
            _waiters[id] = (match, done);
            var already = _events.FirstOrDefault(match);
            if (already is not null && _waiters.TryRemove(id, out _))
            {
                return already;
            }

            return await done.Task.WaitAsync(StepTimeout, cancellationToken);
        }

        public int Count(Func<IResultEvent, bool> match) => _events.Count(match);

        private static string Describe(IResultEvent e) => e switch
        {
            ClosingDocumentSent sent => $"ClosingDocumentSent      key={sent.Key} {sent.Outcome} id={sent.ExternalInvoiceId}",
            ClosingDocumentSkipped skipped => $"ClosingDocumentSkipped   key={skipped.Key} {skipped.SkippedVersion} < {skipped.AppliedVersion}",
            ClosingDocumentDeleted deleted => $"ClosingDocumentDeleted   key={deleted.Key} id={deleted.ExternalInvoiceId}",
            ClosingDocumentsNotified notified => $"ClosingDocumentsNotified key={notified.Key} accounts={string.Join(',', notified.AccountIds)}",
            ClosingDocumentRejected rejected => $"ClosingDocumentRejected  key={rejected.Key} {rejected.Reason}: {rejected.Description}",
            _ => e.GetType().Name,
        };
    }
}
