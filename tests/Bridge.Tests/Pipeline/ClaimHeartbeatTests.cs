using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using Dapper;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A delivery renews its document's claim while its work outlasts the lease (an ActivePlatform call hanging for three
/// leases), so no other delivery can take the document meanwhile; when the work ends the renewal stops and the commit gives
/// the claim back. (The renewal's timer is now stopped by disposing it rather than by cancelling its wait, issue 8: this
/// pins both halves.)
/// </summary>
[Collection(PipelineCollection3.Name)]
public sealed class ClaimHeartbeatTests(PipelineFixture fixture)
{
    [Fact]
    public async Task A_claim_is_renewed_while_the_work_outlasts_its_lease_and_released_when_the_work_ends()
    {
        var prefix = $"bridge-hb-{Guid.NewGuid():N}"[..22];
        var key = "hb-" + Guid.NewGuid().ToString("D");
        var account = 9_700_000 + Random.Shared.Next(100_000);
        var lease = TimeSpan.FromSeconds(3);
        await using var bridge = await fixture.StartBridgeAsync(prefix, new Dictionary<string, string?>
        {
            ["Bridge:Idempotency:DocumentClaimLease"] = "00:00:03",
            ["ActivePlatform:AttemptTimeout"] = "00:00:30",
            ["ActivePlatform:TotalTimeout"] = "00:01:00",
        });
        var database = bridge.Get<IBridgeDatabase>();

        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "GET", PathContains = $"/accounts/{account}/external_invoices", HangNext = 1, HangMs = 9000 }, CancellationToken.None);
        try
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            var first = await EventuallyAsync(() => ClaimAsync(database, account, key), claim => claim.Owner is not null);

            // By the database's clock the first lease has run out (and a second one would have): the claim is still this
            // delivery's, and runs out in the future.
            var later = await EventuallyAsync(() => ClaimAsync(database, account, key), claim => claim.Now > first.ExpiresAt!.Value + lease, TimeSpan.FromSeconds(60));
            Assert.Equal(first.Owner, later.Owner);
            Assert.True(later.ExpiresAt > later.Now, $"the claim ran out at {later.ExpiresAt:O}; the database's time is {later.Now:O}");

            var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key, TimeSpan.FromSeconds(120));
            Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        // The work ended: the claim was given back with the commit and no renewal takes it again.
        var released = await ClaimAsync(database, account, key);
        Assert.Null(released.Owner);
        Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
    }

    private sealed class Claim
    {
        public string? Owner { get; init; }

        public DateTime? ExpiresAt { get; init; }

        public DateTime Now { get; init; }
    }

    private static async Task<Claim> ClaimAsync(IBridgeDatabase database, long account, string key)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        return await connection.QuerySingleOrDefaultAsync<Claim>(
            """
            SELECT s.claimed_by AS Owner, s.claim_expires_at AS ExpiresAt, now.at AS Now
            FROM (SELECT clock_timestamp() AS at) now
            LEFT JOIN bridge.document_states s ON s.scope = @Scope AND s.document_key = @Key
            """,
            new { Scope = ClosingDocumentScope.Of(1, account), Key = key }) ?? throw new InvalidOperationException("no row");
    }
}
