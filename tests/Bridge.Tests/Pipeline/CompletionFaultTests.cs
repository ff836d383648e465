using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Dapper;
using MassTransit;
using Npgsql;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// The completing transaction failing inside PostgreSQL, where a stand-in for the store cannot reach: after its statements
/// ran in their batch (the record completed, the documents and the journal written, the event inserted — and then the
/// server refuses to go on), and at the commit itself. ActivePlatform has applied the create by then. Nothing of the failed
/// transaction may stay, and the redelivery must give the message its effect once: no second create, one event, reported
/// created. The fault is a trigger on the outbox table that fails the message's own event once, with the code PostgreSQL
/// uses when it is shut down (57P01).
/// </summary>
[Collection(PipelineCollection5.Name)]
public sealed class CompletionFaultTests(PipelineFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_completion_failing_in_the_database_after_its_statements_ran_leaves_nothing_and_the_redelivery_applies_the_message_once(bool atCommit)
    {
        var prefix = $"bridge-cft-{Guid.NewGuid():N}"[..22];
        var key = $"completion-fault-{Guid.NewGuid():N}";
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var messageId = NewId.NextGuid().ToString("D");
        await using var fault = await OutboxFault.InstallAsync(fixture.DatabaseConnectionString, messageId, atCommit);
        await using var bridge = await fixture.StartBridgeAsync(prefix);

        await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1, accountId: account), messageId);
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key, TimeSpan.FromSeconds(120));

        Assert.True(await fault.FiredAsync());
        Assert.Equal(ClosingDocumentWriteOutcome.Created, sent.Outcome);
        var document = Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
        Assert.Equal(document.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), sent.ExternalInvoiceId);
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None));
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM bridge.outbox_messages WHERE source_message_id = @MessageId", new { MessageId = messageId }));
    }

    /// <summary>A trigger that fails the first insert of one message's event: at once, or deferred to the commit.</summary>
    private sealed class OutboxFault(string connectionString, string name) : IAsyncDisposable
    {
        public static async Task<OutboxFault> InstallAsync(string connectionString, string messageId, bool atCommit)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(Guid.TryParse(messageId, out _), true);
            var name = "completion_fault_" + Guid.NewGuid().ToString("N")[..12];
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.ExecuteAsync($"""
                CREATE SEQUENCE bridge.{name}_fired;
                CREATE FUNCTION bridge.{name}() RETURNS trigger LANGUAGE plpgsql AS $f$
                BEGIN
                    -- A sequence is not rolled back with the transaction it fails: the fault fires once.
                    IF nextval('bridge.{name}_fired') = 1 THEN
                        RAISE EXCEPTION 'simulated: the server shut down while the completion ran' USING ERRCODE = '57P01';
                    END IF;
                    RETURN NULL;
                END $f$;
                CREATE {(atCommit ? "CONSTRAINT " : "")}TRIGGER {name} AFTER INSERT ON bridge.outbox_messages
                    {(atCommit ? "DEFERRABLE INITIALLY DEFERRED " : "")}FOR EACH ROW
                    WHEN (NEW.source_message_id = '{messageId}') EXECUTE FUNCTION bridge.{name}();
                """);
            return new OutboxFault(connectionString, name);
        }

        public async Task<bool> FiredAsync()
        {
            await using var connection = new NpgsqlConnection(connectionString);
            return await connection.ExecuteScalarAsync<bool>($"SELECT is_called FROM bridge.{name}_fired");
        }

        public async ValueTask DisposeAsync()
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.ExecuteAsync($"""
                DROP TRIGGER IF EXISTS {name} ON bridge.outbox_messages;
                DROP FUNCTION IF EXISTS bridge.{name}();
                DROP SEQUENCE IF EXISTS bridge.{name}_fired;
                """);
        }
    }
}
