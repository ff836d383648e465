using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Hosting;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// The rate limit toward ActivePlatform is the installation's (issue 9 §2): instances find each other in the database and
/// each takes its share, so that together they stay under it. Asserted as an upper bound on calls per second at the
/// sandbox, which a slow machine can only lower.
/// </summary>
[Collection(PipelineCollection4.Name)]
public sealed class RateLimitTests(PipelineFixture fixture)
{
    private const double Rate = 4;

    [Fact]
    public async Task Two_instances_count_each_other_and_together_stay_under_the_installations_rate()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ActivePlatform:RateLimit:PermitsPerSecond"] = Rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Bridge:Instances:HeartbeatInterval"] = "00:00:00.200",
            ["Bridge:Instances:Lease"] = "00:00:01",

            // A turn may be several seconds off when the suite's own Bridge and a registration another test left are counted
            // too: wait for it rather than refuse the call locally (a refused call runs again, a 25th call).
            ["ActivePlatform:RateLimit:MaxWait"] = "00:00:15",
        };
        var (prefixA, prefixB) = ($"bridge-rate-a-{Guid.NewGuid():N}"[..25], $"bridge-rate-b-{Guid.NewGuid():N}"[..25]);
        var account = 8_900_000 + Random.Shared.Next(100_000);

        await using var a = await fixture.StartBridgeAsync(prefixA, settings);
        var registryA = a.Get<InstanceRegistry>();

        var b = await fixture.StartBridgeAsync(prefixB, settings);
        var withB = 0;
        try
        {
            // Each takes the rate ÷ the instances it counts, so A and B together stay under the rate once each counts at least
            // the two of them. B's row is there, so A's next heartbeat counts it; B counts at least itself and A (or the
            // suite's own Bridge, which sends nothing to this account: its share only goes unused). Registrations other tests
            // left may expire meanwhile, never appear, so nothing here waits for an exact count.
            var registryB = b.Get<InstanceRegistry>();
            Assert.NotEqual(registryA.Id, registryB.Id);
            await EventuallyAsync(() => LiveAsync(registryA.Id, registryB.Id), live => live == 2);
            withB = await registryA.HeartbeatAsync(CancellationToken.None);
            await EventuallyAsync(() => Task.FromResult(registryB.Instances), n => n >= 2);

            var keys = new List<string>();
            foreach (var (prefix, index) in Enumerable.Range(0, 12).Select(i => (i % 2 == 0 ? prefixA : prefixB, i)))
            {
                var key = $"rate-{index:D2}-{Guid.NewGuid():N}";
                keys.Add(key);
                await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            }

            foreach (var key in keys)
            {
                var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
                Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
            }

            // Every call for these documents (a lookup and a create each), by the time the sandbox received it: in no second
            // more than the rate plus one call of burst per instance.
            var log = (await fixture.Sandbox.Control.GetCallsAsync(null, $"/accounts/{account}/", null, CancellationToken.None)).OrderBy(c => c.Timestamp).ToList();
            var calls = log.Select(c => c.Timestamp).ToList();
            Assert.Equal(24, calls.Count);
            var busiest = calls.Max(start => calls.Count(t => t >= start && t < start + TimeSpan.FromSeconds(1)));
            Assert.True(
                busiest <= Rate + 2,
                $"{busiest} calls to ActivePlatform within one second; the installation's rate is {Rate}/s; instances {withB}; calls: "
                + string.Join(" | ", log.Select(c => $"{(c.Timestamp - calls[0]).TotalMilliseconds:0} {c.Method} {c.Status}")));
        }
        finally
        {
            await b.DisposeAsync();
        }

        // B removed itself as it stopped: A counts one fewer at its next heartbeat.
        Assert.True(await registryA.HeartbeatAsync(CancellationToken.None) < withB);
    }

    /// <summary>How many of <paramref name="ids"/> hold a live lease in the instance registry, by the database's clock.</summary>
    private async Task<long> LiveAsync(params string[] ids)
    {
        await using var connection = new Npgsql.NpgsqlConnection(fixture.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM bridge.instances WHERE id = ANY(@ids) AND lease_expires_at > statement_timestamp()", connection);
        command.Parameters.AddWithValue("ids", ids);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Messages_refused_by_Bridges_own_rate_limit_wait_for_their_turn_and_are_never_dead_lettered()
    {
        // Two calls a second, a turn awaited a second at most, eight documents at once, one in-process retry: most calls are
        // refused here at first. A refusal is no message's failure (ActivePlatform answers the outage probe): each waits
        // and runs again. (A wait shorter than one turn's interval would refuse a document's create right after its lookup
        // every time: MaxWait is documented to be several intervals.)
        var settings = new Dictionary<string, string?>
        {
            ["ActivePlatform:RateLimit:PermitsPerSecond"] = "2",
            ["ActivePlatform:RateLimit:MaxWait"] = "00:00:01",
            ["ActivePlatform:RetryCount"] = "0",
            ["Bridge:Messaging:RetryLimit"] = "1",
            ["Bridge:Messaging:RetryMinInterval"] = "00:00:00.050",
            ["Bridge:Messaging:RetryMaxInterval"] = "00:00:00.050",
        };
        var prefix = $"bridge-self-{Guid.NewGuid():N}"[..23];
        var account = 8_800_000 + Random.Shared.Next(100_000);
        await using var bridge = await fixture.StartBridgeAsync(prefix, settings);
        var refused = 0L;
        using var meters = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, bridge.Get<Bridge.Host.Messaging.MessageMetrics>().Meter) && instrument.Name == "bridge.activeplatform.rate_limited")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref refused, value));
        meters.Start();

        var keys = Enumerable.Range(0, 8).Select(i => $"self-{i}-{Guid.NewGuid():N}").ToList();
        foreach (var key in keys)
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        }

        foreach (var key in keys)
        {
            var settled = await fixture.Events.WaitForAsync<IResultEvent>(e => e.Key == key);
            Assert.True(settled is ClosingDocumentSent { Outcome: ClosingDocumentWriteOutcome.Created }, $"{key}: {settled}");
        }

        Assert.True(Interlocked.Read(ref refused) > 0, "no call was refused: the test did not exercise the limit");
        var posts = await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
        Assert.All(keys, key => Assert.Single(posts, c => c.ExternalInvoiceKey == key));
    }
}
