using Bridge.Contracts;
using Bridge.Host.Features.Corrections;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// ActivePlatform answered the create, and the transaction that completes the message failed (database stopped, instance
/// killed) before it committed. The answer was known: the redelivery must neither send the effect again nor treat its
/// outcome as unknown.
/// </summary>
[Collection(PipelineCollection3.Name)]
public sealed class AnswerBeforeCommitTests(PipelineFixture fixture)
{
    private static string NewMessageId() => NewId.NextGuid().ToString("D");

    [Fact]
    public async Task A_correction_answered_before_its_commit_failed_is_reported_created_on_redelivery_not_kept_as_unknown()
    {
        var prefix = $"bridge-corr-commit-{Guid.NewGuid():N}"[..30];
        var key = $"corr-{Guid.NewGuid():N}";
        var messageId = NewMessageId();
        var failure = new CommitFailure(k => k == messageId);
        await using var bridge = await fixture.StartBridgeAsync(prefix, services: failure.Install);
        var before = (await fixture.Sandbox.Control.GetCallsAsync(null, null, null, CancellationToken.None)).Select(c => c.Sequence).DefaultIfEmpty().Max();

        await fixture.Erp.PublishJsonAsync($"{prefix}.{CreateCorrectionConsumer.Queue}", new Dictionary<string, object?>
        {
            ["key"] = key,
            ["accountId"] = PipelineFixture.AccountId,
            ["includedInvoice"] = false,
            ["total"] = 42.5m,
            ["comment"] = key,
        }, messageId);

        var outcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key);
        Assert.Equal(1, failure.Failed);
        var created = Assert.IsType<CorrectionCreated>(outcome);
        Assert.False(created.AlreadyApplied);
        var correction = Assert.Single(await fixture.Sandbox.Control.GetCorrectionsAsync(CancellationToken.None), c => c.Comment == key);
        Assert.Equal(correction.Id, created.CorrectionId);
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", "/corrections", null, CancellationToken.None), c => c.Sequence > before);
    }

    [Fact]
    public async Task A_top_up_answered_before_its_commit_failed_is_registered_from_the_answer_even_when_a_look_alike_payment_exists()
    {
        // A payment with the very figures of the top-up exists (made by hand): a read-back by figures could not tell the two
        // apart. The answer named the created payment, so nothing needs to be read back.
        var prefix = $"bridge-topup-commit-{Guid.NewGuid():N}"[..30];
        var key = $"topup-{Guid.NewGuid():N}";
        var account = 1_100_000 + Random.Shared.Next(99_999);
        var messageId = NewMessageId();
        var lookAlike = await fixture.Sandbox.Control.AddPaymentAsync(new SandboxPaymentSeed { AccountId = account, Total = 77m, TopUp = true }, CancellationToken.None);
        var failure = new CommitFailure(k => k == messageId);
        await using var bridge = await fixture.StartBridgeAsync(prefix, services: failure.Install);

        await fixture.Erp.PublishJsonAsync($"{prefix}.{RegisterPaymentConsumer.Queue}", new { key, accountId = account, total = 77m, comment = "top-up payment" }, messageId);

        var outcome = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key);
        Assert.Equal(1, failure.Failed);
        var registered = Assert.IsType<PaymentRegistered>(outcome);
        Assert.False(registered.AlreadyApplied);
        var payments = (await fixture.Sandbox.Control.GetPaymentsAsync(null, null, CancellationToken.None)).Where(p => p.AccountId == account).ToList();
        Assert.Equal(2, payments.Count);
        var created = Assert.Single(payments, p => p.Id != lookAlike.Id);
        Assert.Equal(created.Id, registered.PaymentId);
        Assert.Equal(created.Number, registered.PaymentNumber);
    }
}
