using System.Runtime.CompilerServices;
using Bridge.Contracts;
using Bridge.Host.Features.CurrencyRates;
using MassTransit;

namespace Bridge.Demo;

/// <summary>
/// The currency-rate part of the quick start: a batch, a newer one, an older one arriving late (skipped), the same batch
/// republished under a new message id (no second PATCH), and an invalid batch. It listens for its own result events.
/// </summary>
internal sealed class CurrencyRateDemoSteps(IBus bus, DemoRunner.ResultCollector results)
{
    private static readonly DateTimeOffset Morning = new(2026, 11, 30, 9, 0, 0, TimeSpan.FromHours(3));

    public async IAsyncEnumerable<(string Step, string Expected, string Actual, bool Ok)> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var listener = bus.ConnectReceiveEndpoint("demo-finance-workflow-currency-rates", endpoint =>
        {
            endpoint.Handler<CurrencyRatesUpdated>(context => results.Add(context.Message));
            endpoint.Handler<CurrencyRatesSkipped>(context => results.Add(context.Message));
            endpoint.Handler<CurrencyRatesRejected>(context => results.Add(context.Message));
        });
        await listener.Ready;
        try
        {
            var updated = await SendAndAwaitAsync<CurrencyRatesUpdated>(Batch("rates-morning", Morning, 92.50m, 0.18m), NewId.NextGuid(), cancellationToken);
            yield return Step("currency rates (09:00)", "Updated, 2 pairs", updated, e => e is CurrencyRatesUpdated { Applied.Count: 2 });

            var noon = Batch("rates-noon", Morning.AddHours(3), 93.10m, 0.19m);
            var newer = await SendAndAwaitAsync<CurrencyRatesUpdated>(noon, NewId.NextGuid(), cancellationToken);
            yield return Step("newer currency rates (12:00)", "Updated, 2 pairs", newer, e => e is CurrencyRatesUpdated { Applied.Count: 2 });

            var late = await SendAndAwaitAsync<CurrencyRatesSkipped>(Batch("rates-early", Morning.AddHours(-1), 91.00m, 0.17m), NewId.NextGuid(), cancellationToken);
            yield return Step("older rates (08:00) arriving late", "Skipped, both pairs", late, e => e is CurrencyRatesSkipped { Skipped.Count: 2 });

            var again = await SendAndAwaitAsync<CurrencyRatesUpdated>(noon, NewId.NextGuid(), cancellationToken);
            yield return Step("12:00 batch republished, new id", "Updated, already applied, no PATCH", again, e => e is CurrencyRatesUpdated { AlreadyApplied: true, Applied.Count: 0 });

            var invalid = await SendAndAwaitAsync<CurrencyRatesRejected>(
                new UpdateCurrencyRates
                {
                    Key = "rates-invalid",
                    EffectiveAt = Morning,
                    Rates = [new CurrencyRate { BaseCurrency = "rub", ForeignCurrency = "USD", Quantity = 0, Rate = -1m, Adjustment = 5000m }],
                },
                NewId.NextGuid(),
                cancellationToken);
            yield return Step("invalid rates (code, rate, adj.)", "Rejected, InvalidMessage", invalid, e => e is CurrencyRatesRejected { Reason: RejectionReason.InvalidMessage });
        }
        finally
        {
            await listener.StopAsync(CancellationToken.None);
        }
    }

    private static UpdateCurrencyRates Batch(string key, DateTimeOffset effectiveAt, decimal usd, decimal kzt) => new()
    {
        Key = key,
        EffectiveAt = effectiveAt,
        Rates =
        [
            new CurrencyRate { BaseCurrency = "RUB", ForeignCurrency = "USD", Quantity = 1, Rate = usd, Adjustment = 1.02m, ShowForClient = true },
            new CurrencyRate { BaseCurrency = "RUB", ForeignCurrency = "KZT", Quantity = 100, Rate = kzt * 100 },
        ],
    };

    private async Task<IResultEvent> SendAndAwaitAsync<TEvent>(UpdateCurrencyRates message, Guid messageId, CancellationToken cancellationToken)
        where TEvent : IResultEvent
    {
        var id = messageId.ToString("D");
        var arrival = results.WaitAsync(e => e is TEvent && e.MessageId == id, cancellationToken);
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:bridge.{UpdateCurrencyRatesConsumer.Queue}"));
        Console.WriteLine($"  -> {nameof(UpdateCurrencyRates)} to bridge.{UpdateCurrencyRatesConsumer.Queue} (message id {id})");
        await endpoint.Send(message, Pipe.Execute<SendContext>(context => context.MessageId = messageId), cancellationToken);
        return await arrival;
    }

    private static (string, string, string, bool) Step(string step, string expected, IResultEvent actual, Func<IResultEvent, bool> ok)
        => (step, expected, Describe(actual), ok(actual));

    public static string Describe(IResultEvent e) => e switch
    {
        CurrencyRatesUpdated { AlreadyApplied: true } => "Updated, already applied (no PATCH)",
        CurrencyRatesUpdated updated => $"Updated, {updated.Applied.Count} sent, {updated.Skipped.Count} skipped",
        CurrencyRatesSkipped skipped => $"Skipped, {skipped.Skipped.Count} pair(s)",
        CurrencyRatesRejected rejected => $"Rejected, {rejected.Reason}",
        _ => e.GetType().Name,
    };
}
