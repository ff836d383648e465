using System.Diagnostics;
using Bridge.Chaos.Processes;
using Npgsql;

namespace Bridge.Benchmarks;

/// <summary>
/// Fills a scenario's PostgreSQL database before Bridge starts: its schema by Bridge itself (<c>dotnet bridge.dll migrate</c>,
/// as operators run it), then N rows in each table Bridge reads on the hot path — completed idempotency records, document
/// states, dispatched outbox rows and resolved effect-journal rows — spread over a thousand accounts, then ANALYZE. The
/// scenario's own messages use other keys, so what they read is found through the indexes among a million others.
/// </summary>
internal static class Prefill
{
    public static async Task RunAsync(string bridgeDll, StorageProbe storage, int rows, string workDirectory, CancellationToken ct)
    {
        await MigrateAsync(bridgeDll, storage, workDirectory, ct);
        await using var connection = new NpgsqlConnection(storage.ConnectionString);
        await connection.OpenAsync(ct);
        foreach (var statement in Statements)
        {
            await using var command = new NpgsqlCommand(statement, connection) { CommandTimeout = 0 };
            command.Parameters.AddWithValue("n", rows);
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private static readonly string[] Statements =
    [
        """
        INSERT INTO bridge.idempotency_records
            (idempotency_key, message_type, fingerprint, document_key, state, outcome, resource_id, created_at, updated_at)
        SELECT 'prefill-' || g, 'SendClosingDocument', 'v2:' || md5(g::text), 'prefill-doc-' || g, 'Completed', 'Applied',
               'ap-' || g, now() - interval '1 day', now() - interval '1 day'
        FROM generate_series(1, @n) AS g;
        """,
        """
        INSERT INTO bridge.document_states (scope, document_key, applied_version, resource_id, deleted, updated_at)
        SELECT 'closing-document:1:' || (g % 1000), 'prefill-doc-' || g, 'r:' || lpad(g::text, 20, '0'), 'ap-' || g, false,
               now() - interval '1 day'
        FROM generate_series(1, @n) AS g;
        """,
        """
        INSERT INTO bridge.outbox_messages (id, message_type, body, headers, created_at, dispatched_at, attempts)
        SELECT gen_random_uuid(), 'ClosingDocumentSent', '{}', '{}', now() - interval '1 day', now() - interval '1 day', 0
        FROM generate_series(1, @n) AS g;
        """,
        """
        INSERT INTO bridge.effect_journal
            (effect_id, scope, effect_key, group_key, owner_key, attempt_id, fingerprint, state, is_open, resource_id, sent_at, updated_at)
        SELECT encode(sha256(convert_to('prefill-' || g, 'UTF8')), 'hex'), 'closing-document:1:' || (g % 1000),
               'prefill-doc-' || g || chr(10) || 'create', 'prefill-doc-' || g, 'prefill-' || g, md5(g::text), '', 'Applied',
               false, 'ap-' || g, now() - interval '1 day', now() - interval '1 day'
        FROM generate_series(1, @n) AS g;
        """,
        "ANALYZE;",
    ];

    private static async Task MigrateAsync(string bridgeDll, StorageProbe storage, string workDirectory, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDirectory };
        start.ArgumentList.Add(bridgeDll);
        start.ArgumentList.Add("migrate");
        start.Environment["Bridge__Storage__Provider"] = storage.Provider;
        start.Environment["Bridge__Storage__ConnectionString"] = storage.ConnectionString;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bridge migrate");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"bridge migrate exited with {process.ExitCode}: {await output}{await error}");
        }
    }
}
