using Dapper;
using Npgsql;

namespace Bridge.Tests.Pipeline;

/// <summary>What the pipeline tests read from Bridge's database to see a message waiting: its record, a document's claim.</summary>
internal static class PipelineDatabase
{
    /// <summary>Who holds the claim on <paramref name="documentKey"/> of <paramref name="scope"/> (null: nobody, or no row).</summary>
    public static async Task<string?> ClaimedByAsync(this PipelineFixture fixture, string scope, string documentKey)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        return await connection.QuerySingleOrDefaultAsync<string?>(
            "SELECT claimed_by FROM bridge.document_states WHERE scope = @Scope AND document_key = @Key", new { Scope = scope, Key = documentKey });
    }

    /// <summary>The state Bridge records as applied to <paramref name="documentKey"/> of <paramref name="scope"/> (null: none, or no row).</summary>
    public static async Task<string?> AppliedStateAsync(this PipelineFixture fixture, string scope, string documentKey)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        return await connection.QuerySingleOrDefaultAsync<string?>(
            "SELECT applied_version FROM bridge.document_states WHERE scope = @Scope AND document_key = @Key", new { Scope = scope, Key = documentKey });
    }

    /// <summary>Whether a delivery of the message has begun (its idempotency record exists).</summary>
    public static async Task<bool> RecordExistsAsync(this PipelineFixture fixture, string idempotencyKey)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM bridge.idempotency_records WHERE idempotency_key = @Key", new { Key = idempotencyKey }) > 0;
    }

    /// <summary>
    /// Completes once message <paramref name="idempotencyKey"/> has begun and waits behind <paramref name="holder"/>'s claim
    /// on the document (a hold kept after an earlier write); never, when there was no holder.
    /// </summary>
    public static Task WaitingBehindAsync(this PipelineFixture fixture, string idempotencyKey, string scope, string documentKey, string? holder) =>
        PipelineTestData.EventuallyAsync(
            async () => (await fixture.RecordExistsAsync(idempotencyKey), await fixture.ClaimedByAsync(scope, documentKey)),
            state => holder is not null && state.Item1 && state.Item2 == holder,
            TimeSpan.FromSeconds(120));
}
