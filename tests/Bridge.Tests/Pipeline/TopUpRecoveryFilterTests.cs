using Bridge.Contracts;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A lost top-up answer is recovered by listing payments. Only <c>filter[created_at][gt]</c> and <c>page[size]</c> /
/// <c>page[number]</c> are documented (REFERENCE.md §0): recovery must find the payment on an installation that ignores or
/// refuses the inferred operators, reading <c>created_at</c> from the answer and paging until a short page.
/// </summary>
[Collection(PipelineCollection5.Name)]
public sealed class TopUpRecoveryFilterTests(PipelineFixture fixture)
{
    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    [Theory]
    [InlineData(UndocumentedFilters.Reject)]
    [InlineData(UndocumentedFilters.Ignore)]
    public async Task A_lost_top_up_answer_is_recovered_by_documented_filters_and_paging_alone(UndocumentedFilters mode)
    {
        var key = $"topup-{Guid.NewGuid():N}";
        var account = 1_300_000 + Random.Shared.Next(99_999);

        // More payments than one page holds, all created just now: the one to adopt is not on the first page.
        for (var i = 0; i < 55; i++)
        {
            await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { AccountId = account + 1, Total = 5m }, CancellationToken.None);
        }

        var before = (await Sandbox.GetCallsAsync(null, null, null, CancellationToken.None)).Select(c => c.Sequence).DefaultIfEmpty().Max();
        await Sandbox.SetUndocumentedPaymentFiltersAsync(mode, CancellationToken.None);
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/resellers/1/payments", LoseAnswerNext = 1 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync(fixture.Queue(RegisterPaymentConsumer.Queue), new { key, accountId = account, total = 33.3m, comment = "top-up payment" }, NewId.NextGuid().ToString("D"));

            var outcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key);
            var registered = Assert.IsType<PaymentRegistered>(outcome);
            var created = Assert.Single(await Sandbox.GetPaymentsAsync(null, null, CancellationToken.None), p => p.AccountId == account);
            Assert.Equal(created.Id, registered.PaymentId);
            var calls = (await Sandbox.GetCallsAsync(null, "/resellers/1/payments", null, CancellationToken.None)).Where(c => c.Sequence > before).ToList();
            Assert.Equal([502], calls.Where(c => c.Method == "POST").Select(c => c.Status));
            Assert.True(calls.Count(c => c.Method == "GET") >= 2, "the recovery read more than one page");
        }
        finally
        {
            await Sandbox.ClearFaultsAsync(CancellationToken.None);
            await Sandbox.SetUndocumentedPaymentFiltersAsync(UndocumentedFilters.Honour, CancellationToken.None);
        }
    }
}
