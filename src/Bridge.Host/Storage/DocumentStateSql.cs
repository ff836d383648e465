namespace Bridge.Host.Storage;

/// <summary>The document states' statements (claims and applied versions), the three dialects side by side.</summary>
public sealed class DocumentStateSql
{
    /// <summary>
    /// Claims (inserting the row if absent) for <c>@LeaseMilliseconds</c> from the database's now unless another owner
    /// holds a claim that has not expired by the database's clock; on success returns the claimed row as
    /// <see cref="Select"/> reads it (one round trip for both), else nothing. An expiry is never moved earlier (here and by
    /// <see cref="Renew"/>): a currency-rate intent's hold, re-claimed by its batch's redelivery on an instance with a
    /// shorter in-flight window, must still last the window of the instance that sent it.
    /// </summary>
    public required string Claim { get; init; }

    /// <summary>
    /// Extends the claim for <c>@LeaseMilliseconds</c> from the database's now only while <c>@Owner</c> still holds it —
    /// unlike <see cref="Claim"/>, never re-takes a claim another delivery held (and perhaps released) meanwhile;
    /// affects one row on success. Run inside a transaction it also locks the row until the transaction ends, so no other
    /// delivery can take the claim before what the transaction records is committed.
    /// </summary>
    public required string Renew { get; init; }

    public required string Release { get; init; }

    /// <summary>Hands the claim from <c>@Owner</c> to <c>@To</c>, its expiry unchanged; affects one row when <c>@Owner</c> held it.</summary>
    public required string HandOver { get; init; }

    public required string Select { get; init; }

    public required string SetApplied { get; init; }

    public static DocumentStateSql For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.PostgreSql => PostgreSql,
        SqlDialect.Sqlite => Sqlite,
        SqlDialect.SqlServer => SqlServer,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown SQL dialect."),
    };

    private static readonly DocumentStateSql PostgreSql = new()
    {
        // The conflict arm re-checks the claim on the latest row version, so of two racing claimers only one
        // sees it free. statement_timestamp() is the server's clock when the statement began.
        Claim = """
            INSERT INTO bridge.document_states AS s
                (scope, document_key, deleted, claimed_by, claim_expires_at, updated_at)
            VALUES (@Scope, @DocumentKey, false, @Owner, statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond', @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET claimed_by = excluded.claimed_by, claim_expires_at = GREATEST(s.claim_expires_at, excluded.claim_expires_at)
                WHERE s.claimed_by IS NULL OR s.claim_expires_at < statement_timestamp() OR s.claimed_by = @Owner
            RETURNING s.scope AS Scope, s.document_key AS DocumentKey, s.applied_version AS AppliedVersion,
                      s.resource_id AS ResourceId, s.deleted AS Deleted, s.updated_at AS UpdatedAt;
            """,

        Renew = """
            UPDATE bridge.document_states
            SET claim_expires_at = GREATEST(claim_expires_at, statement_timestamp() + @LeaseMilliseconds * interval '1 millisecond')
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        Release = """
            UPDATE bridge.document_states
            SET claimed_by = NULL, claim_expires_at = NULL
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        HandOver = """
            UPDATE bridge.document_states
            SET claimed_by = @To
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        Select = """
            SELECT scope AS Scope, document_key AS DocumentKey, applied_version AS AppliedVersion,
                   resource_id AS ResourceId, deleted AS Deleted, updated_at AS UpdatedAt
            FROM bridge.document_states
            WHERE scope = @Scope AND document_key = @DocumentKey;
            """,

        SetApplied = """
            INSERT INTO bridge.document_states AS s
                (scope, document_key, applied_version, resource_id, deleted, updated_at)
            VALUES (@Scope, @DocumentKey, @AppliedVersion, @ResourceId, @Deleted, @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET applied_version = excluded.applied_version, resource_id = excluded.resource_id,
                    deleted = excluded.deleted, updated_at = excluded.updated_at;
            """,
    };

    private static readonly DocumentStateSql Sqlite = new()
    {
        Claim = $"""
            INSERT INTO document_states
                (scope, document_key, deleted, claimed_by, claim_expires_at, updated_at)
            VALUES (@Scope, @DocumentKey, 0, @Owner, {SqliteClock.NowPlus("@LeaseMilliseconds")}, @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET claimed_by = excluded.claimed_by,
                    claim_expires_at = MAX(COALESCE(document_states.claim_expires_at, excluded.claim_expires_at), excluded.claim_expires_at)
                WHERE document_states.claimed_by IS NULL
                   OR document_states.claim_expires_at < {SqliteClock.Now}
                   OR document_states.claimed_by = @Owner
            RETURNING scope AS Scope, document_key AS DocumentKey, applied_version AS AppliedVersion,
                      resource_id AS ResourceId, deleted AS Deleted, updated_at AS UpdatedAt;
            """,

        Renew = $"""
            UPDATE document_states
            SET claim_expires_at = MAX(COALESCE(claim_expires_at, {SqliteClock.NowPlus("@LeaseMilliseconds")}), {SqliteClock.NowPlus("@LeaseMilliseconds")})
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        Release = """
            UPDATE document_states
            SET claimed_by = NULL, claim_expires_at = NULL
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        HandOver = """
            UPDATE document_states
            SET claimed_by = @To
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        Select = """
            SELECT scope AS Scope, document_key AS DocumentKey, applied_version AS AppliedVersion,
                   resource_id AS ResourceId, deleted AS Deleted, updated_at AS UpdatedAt
            FROM document_states
            WHERE scope = @Scope AND document_key = @DocumentKey;
            """,

        SetApplied = """
            INSERT INTO document_states
                (scope, document_key, applied_version, resource_id, deleted, updated_at)
            VALUES (@Scope, @DocumentKey, @AppliedVersion, @ResourceId, @Deleted, @Now)
            ON CONFLICT (scope, document_key) DO UPDATE
                SET applied_version = excluded.applied_version, resource_id = excluded.resource_id,
                    deleted = excluded.deleted, updated_at = excluded.updated_at;
            """,
    };

    private static readonly DocumentStateSql SqlServer = new()
    {
        // HOLDLOCK makes MERGE's match-then-insert atomic; without it two claimers of a new key can both insert.
        // SYSUTCDATETIME() is the server's UTC clock; compared with or stored in a datetimeoffset column it reads as +00:00.
        Claim = """
            MERGE bridge.document_states WITH (HOLDLOCK) AS target
            USING (VALUES (@Scope, @DocumentKey)) AS source (scope, document_key)
                ON target.scope = source.scope AND target.document_key = source.document_key
            WHEN MATCHED AND (target.claimed_by IS NULL OR target.claim_expires_at < SYSUTCDATETIME() OR target.claimed_by = @Owner) THEN
                UPDATE SET claimed_by = @Owner, claim_expires_at = CASE
                    WHEN target.claim_expires_at > DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME()) THEN target.claim_expires_at
                    ELSE DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME()) END
            WHEN NOT MATCHED THEN
                INSERT (scope, document_key, deleted, claimed_by, claim_expires_at, updated_at)
                VALUES (@Scope, @DocumentKey, 0, @Owner, DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME()), @Now)
            OUTPUT inserted.scope AS Scope, inserted.document_key AS DocumentKey, inserted.applied_version AS AppliedVersion,
                   inserted.resource_id AS ResourceId, inserted.deleted AS Deleted, inserted.updated_at AS UpdatedAt;
            """,

        Renew = """
            UPDATE bridge.document_states
            SET claim_expires_at = CASE
                WHEN claim_expires_at > DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME()) THEN claim_expires_at
                ELSE DATEADD(millisecond, @LeaseMilliseconds, SYSUTCDATETIME()) END
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        Release = """
            UPDATE bridge.document_states
            SET claimed_by = NULL, claim_expires_at = NULL
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        HandOver = """
            UPDATE bridge.document_states
            SET claimed_by = @To
            WHERE scope = @Scope AND document_key = @DocumentKey AND claimed_by = @Owner;
            """,

        Select = """
            SELECT scope AS Scope, document_key AS DocumentKey, applied_version AS AppliedVersion,
                   resource_id AS ResourceId, deleted AS Deleted, updated_at AS UpdatedAt
            FROM bridge.document_states
            WHERE scope = @Scope AND document_key = @DocumentKey;
            """,

        SetApplied = """
            MERGE bridge.document_states WITH (HOLDLOCK) AS target
            USING (VALUES (@Scope, @DocumentKey)) AS source (scope, document_key)
                ON target.scope = source.scope AND target.document_key = source.document_key
            WHEN MATCHED THEN
                UPDATE SET applied_version = @AppliedVersion, resource_id = @ResourceId, deleted = @Deleted, updated_at = @Now
            WHEN NOT MATCHED THEN
                INSERT (scope, document_key, applied_version, resource_id, deleted, updated_at)
                VALUES (@Scope, @DocumentKey, @AppliedVersion, @ResourceId, @Deleted, @Now);
            """,
    };
}
