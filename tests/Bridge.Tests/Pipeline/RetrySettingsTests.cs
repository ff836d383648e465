using Bridge.ActivePlatform;
using Bridge.Contracts;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>The in-process retry settings as an operator may set them, against the real broker, database and sandbox.</summary>
[Collection(PipelineCollection4.Name)]
public sealed class RetrySettingsTests(PipelineFixture fixture)
{
    [Fact]
    public async Task With_RetryLimit_0_a_failing_message_is_tried_once_and_its_dead_letter_carries_the_503_that_happened()
    {
        var prefix = $"bridge-r0-{Guid.NewGuid():N}"[..20];
        var (key, account) = (Guid.NewGuid().ToString("D"), 9_800_000 + Random.Shared.Next(100_000));
        var posts = $"/accounts/{account}/external_invoices";
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = posts, FailNext = 10_000, ErrorStatus = 503 }, CancellationToken.None);
        try
        {
            await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?> { ["Bridge:Messaging:RetryLimit"] = "0" });
            await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));

            var announced = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);
            var details = (await bridge.Get<IDeadLetterStore>().GetAsync(announced.DeadLetterId, CancellationToken.None))!;
            var stored = details.Letter;

            Assert.Equal(typeof(ActivePlatformTransientException).FullName, announced.ExceptionType);
            Assert.Contains("503", announced.Reason, StringComparison.Ordinal);
            Assert.Equal(typeof(ActivePlatformTransientException).FullName, stored.Summary.ExceptionType);
            Assert.Contains("503", stored.Summary.ExceptionMessage, StringComparison.Ordinal);
            Assert.DoesNotContain(nameof(IndexOutOfRangeException), stored.StackTrace ?? "", StringComparison.Ordinal);
            Assert.All(details.Audit, entry => Assert.DoesNotContain(nameof(IndexOutOfRangeException), entry.Detail ?? "", StringComparison.Ordinal));
            Assert.Equal(1, stored.Summary.AttemptCount);
            Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", posts, null, CancellationToken.None));
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }
    }
}
