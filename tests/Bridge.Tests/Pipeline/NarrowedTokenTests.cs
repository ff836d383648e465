using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A token narrowed in ActivePlatform right after Bridge confirmed it reaches the reseller: ActivePlatform may answer the
/// reseller 404 from then on (undocumented). A 404 that would end the message — a delete finding nothing, a write refused —
/// is checked afresh, never on the strength of a confirmation from before the narrowing.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class NarrowedTokenTests(PipelineFixture fixture)
{
    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    /// <summary>
    /// A Bridge with its own token whose first document (a lookup by key answered 404, then a create) confirmed the token
    /// reaches reseller 1; then the token is narrowed to reseller 10, and reseller 1 is answered 404.
    /// </summary>
    private async Task<(BridgeInstance Bridge, string Prefix, string Key, long Account)> SentThenNarrowedAsync(string name)
    {
        var token = "narrowed-" + Guid.NewGuid().ToString("N");
        await Sandbox.AddTokenAsync(token, 1, CancellationToken.None);
        var prefix = $"bridge-{name}-{Guid.NewGuid():N}"[..22];
        var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?> { ["ActivePlatform:ApiToken"] = token });
        var key = "nt-" + Guid.NewGuid().ToString("D");
        var account = 9_900_000 + Random.Shared.Next(90_000);
        var first = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account, total: 10m), first);
        Assert.IsType<ClosingDocumentSent>(await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == first, TimeSpan.FromSeconds(120)));

        await Sandbox.AddTokenAsync(token, 10, CancellationToken.None);
        await Sandbox.SetOutOfScopeStatusAsync(404, CancellationToken.None);
        return (bridge, prefix, key, account);
    }

    [Fact]
    public async Task A_delete_just_after_the_token_was_narrowed_is_kept_as_a_dead_letter_not_reported_as_finding_nothing()
    {
        var (bridge, prefix, key, account) = await SentThenNarrowedAsync("nt1");
        await using var running = bridge;
        try
        {
            var delete = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{DeleteClosingDocumentConsumer.Queue}", new Dictionary<string, object?> { ["accountId"] = account, ["key"] = key }, delete);

            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == delete, TimeSpan.FromSeconds(120));
            var kept = Assert.IsType<ErpMessageDeadLettered>(answer);
            Assert.Contains("Reseller 1 is not reachable", kept.Reason, StringComparison.Ordinal);
            Assert.Contains(await Sandbox.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        }
        finally
        {
            await Sandbox.SetOutOfScopeStatusAsync(403, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_new_version_just_after_the_token_was_narrowed_is_kept_as_a_dead_letter_not_rejected()
    {
        var (bridge, prefix, key, account) = await SentThenNarrowedAsync("nt2");
        await using var running = bridge;
        try
        {
            // The lookup by key is answered 404 and believed (the confirmation is fresh): a create is sent, and refused 404.
            var update = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 2, accountId: account, total: 20m), update);

            var answer = await fixture.Events.WaitForAsync<IResultEvent>(e => e.MessageId == update, TimeSpan.FromSeconds(120));
            var kept = Assert.IsType<ErpMessageDeadLettered>(answer);
            Assert.Contains("Reseller 1 is not reachable", kept.Reason, StringComparison.Ordinal);
            Assert.Equal("10.0", Assert.Single(await Sandbox.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key).Total);
        }
        finally
        {
            await Sandbox.SetOutOfScopeStatusAsync(403, CancellationToken.None);
        }
    }
}
