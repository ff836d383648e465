using System.Collections.Concurrent;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Idempotency;
using Bridge.Sandbox;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Instances may run with different ActivePlatform timeouts (a rolling deploy that lowers them). A send whose answer was
/// lost is settled by whichever instance handles its document next; it must wait until the send can no longer land by the
/// sender's timeouts, not only by its own, or the late send overwrites what was written after it.
/// </summary>
[Collection(PipelineCollection5.Name)]
public sealed class SenderWindowTests(PipelineFixture fixture)
{
    [Fact]
    public async Task An_instance_with_shorter_timeouts_does_not_settle_another_instances_unanswered_update_before_the_senders_window()
    {
        var prefix = $"bridge-sw-{Guid.NewGuid():N}"[..21];
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        var key = "clu-" + Guid.NewGuid().ToString("D");
        var account = 9_700_000 + Random.Shared.Next(100_000);
        var documents = $"/accounts/{account}/external_invoices";
        var scope = ClosingDocumentWrites.Scope(1, account);

        // The sender: its in-flight window is 28 + 2 = 30 s (time enough to stop it and start another instance on a busy
        // machine), 32 s with its polling deadline; no repeat by the HTTP layer, so the held attempt is the only one.
        BridgeInstance? sender = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["ActivePlatform:TotalTimeout"] = "00:00:28",
            ["ActivePlatform:AttemptTimeout"] = "00:00:02",
            ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:02",
            ["ActivePlatform:RetryCount"] = "0",
        });
        BridgeInstance? settler = null;
        try
        {
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Outcome == ClosingDocumentWriteOutcome.Created, TimeSpan.FromSeconds(120));

            // Version 2's PATCH is answered 502 and held by the sandbox: a gateway gave up, the platform has not carried it out yet.
            await fixture.Sandbox.Control.SetFaultAsync(
                new FaultRule { Method = "PATCH", PathContains = documents, LandLateNext = 1, LandLateMinMs = 3_600_000, LandLateMaxMs = 3_600_000 }, CancellationToken.None);
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 2, accountId: account), NewId.NextGuid().ToString("D"));
            var journal = sender.Get<IEffectJournal>();
            var held = await PipelineTestData.EventuallyAsync(
                () => journal.FindOpenAsync(scope, key, CancellationToken.None),
                open => open is { State: EffectState.Sending },
                TimeSpan.FromSeconds(60));
            Assert.Equal(TimeSpan.FromSeconds(30), held!.SenderWindow);
            await PipelineTestData.EventuallyAsync(
                () => fixture.Sandbox.Control.GetPendingLateLandingsAsync(CancellationToken.None), pending => pending == 1, TimeSpan.FromSeconds(60));

            // The sender stops (version 2 goes back to its queue); an instance whose window is 2 + 1 = 3 s takes over. Its
            // retry budget is its own (2 × lease + deadline + window = 34 s): a longer wait for another instance's send would
            // dead-letter the message (README: the settings that make a message wait).
            await sender.DisposeAsync();
            sender = null;
            var looks = new ConcurrentQueue<EffectEntry>();
            settler = await fixture.StartBridgeAsync(
                prefix,
                new Dictionary<string, string?>
                {
                    ["ActivePlatform:TotalTimeout"] = "00:00:02",
                    ["ActivePlatform:AttemptTimeout"] = "00:00:01",
                    ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:01",
                    ["ActivePlatform:RetryCount"] = "0",
                    ["Bridge:Idempotency:DocumentClaimLease"] = "00:00:15",
                },
                services => services.AddSingleton<IEffectJournal>(provider =>
                    new WatchedJournal(ActivatorUtilities.CreateInstance<SqlEffectJournal>(provider), looks)));
            var third = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 3, accountId: account), third);

            // Either version 3 is written (version 2 settled by the settler's own 3 s), or the settler looked at the held
            // attempt twice after its own window had passed and left it open.
            var thirdSent = fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.MessageId == third, TimeSpan.FromSeconds(120));
            var waitedPastOwnWindow = PipelineTestData.EventuallyAsync(
                () => Task.FromResult(looks.Count(l => l.Attempt == held.Attempt && l.IsOpen && l.SinceSent >= TimeSpan.FromSeconds(3))),
                count => count >= 2,
                TimeSpan.FromSeconds(120));
            await Task.WhenAny(thirdSent, waitedPastOwnWindow).WaitAsync(TimeSpan.FromSeconds(120));

            // The held attempt of version 2 lands now, inside the sender's window (were the window over, the test would not
            // show anything: the settler would rightly have settled it).
            var before = await settler.Get<IEffectJournal>().FindAsync(held.Id, CancellationToken.None);
            Assert.True(
                thirdSent.IsCompleted || (before?.Attempt == held.Attempt && before.IsOpen && before.SinceSent < held.SenderWindow!.Value),
                $"precondition: the held attempt is still open inside the sender's window before it lands ({before?.State}, sent {before?.SinceSent} ago)");
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            await fixture.Sandbox.Control.AwaitLateLandingsAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
            var landed = Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("PATCH", documents, null, CancellationToken.None), c => c.Fault == "landed-late");
            Assert.True(landed.Status is >= 200 and < 300, $"the held attempt landed with {landed.Status}");

            await thirdSent;
            var document = Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
            Assert.EndsWith(" r3", document.Name, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
            await fixture.Sandbox.Control.LandLateCallsNowAsync(CancellationToken.None);
            if (sender is not null)
            {
                await sender.DisposeAsync();
            }

            if (settler is not null)
            {
                await settler.DisposeAsync();
            }
        }
    }

    /// <summary>The journal as it is, keeping every open effect a delivery read.</summary>
    private sealed class WatchedJournal(IEffectJournal inner, ConcurrentQueue<EffectEntry> looks) : DelegatingEffectJournal(inner)
    {
        private EffectEntry? Seen(EffectEntry? entry)
        {
            if (entry is not null)
            {
                looks.Enqueue(entry);
            }

            return entry;
        }

        public override async Task<EffectEntry?> FindAsync(EffectId id, CancellationToken cancellationToken) => Seen(await base.FindAsync(id, cancellationToken));

        public override async Task<EffectEntry?> FindOpenAsync(string scope, string group, CancellationToken cancellationToken) => Seen(await base.FindOpenAsync(scope, group, cancellationToken));

        public override async Task<(EffectEntry? Open, EffectEntry? Own)> FindOpenAndOwnAsync(string scope, string group, EffectId own, CancellationToken cancellationToken)
        {
            var (open, mine) = await base.FindOpenAndOwnAsync(scope, group, own, cancellationToken);
            return (Seen(open), Seen(mine));
        }
    }
}
