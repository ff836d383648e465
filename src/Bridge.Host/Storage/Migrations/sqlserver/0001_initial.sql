-- Keys compare byte for byte (BIN2), as on PostgreSQL and SQLite: ERP keys and transaction ids that differ only in case
-- or trailing spaces are different keys.
-- Bridge storage, version 1 (SQL Server).
-- The runner creates the bridge schema and bridge.schema_versions before any script, and runs each script in one
-- transaction, so this file is a single batch: no GO separators.
-- Key columns stay within SQL Server's 900-byte clustered key limit; the other dialects use the same lengths so a
-- key that works on SQLite in development also works in production.

CREATE TABLE bridge.idempotency_records
(
    idempotency_key       nvarchar(200) COLLATE Latin1_General_100_BIN2     NOT NULL,
    message_type          nvarchar(200)     NOT NULL,
    fingerprint           nvarchar(128)     NOT NULL,
    document_key          nvarchar(300) COLLATE Latin1_General_100_BIN2     NULL,
    state                 nvarchar(20)      NOT NULL,
    outcome               nvarchar(max)     NULL,
    resource_id           nvarchar(100)     NULL,
    pending_async_task_id nvarchar(100)     NULL,
    created_at            datetimeoffset(7) NOT NULL,
    updated_at            datetimeoffset(7) NOT NULL,
    CONSTRAINT pk_idempotency_records PRIMARY KEY CLUSTERED (idempotency_key),
    CONSTRAINT ck_idempotency_records_state CHECK (state IN (N'InProgress', N'Completed'))
);

-- Purge deletes completed records by age.
CREATE INDEX ix_idempotency_records_state_updated_at ON bridge.idempotency_records (state, updated_at);

-- Operators look up every message seen for one document.
CREATE INDEX ix_idempotency_records_document_key ON bridge.idempotency_records (document_key)
    WHERE document_key IS NOT NULL;

CREATE TABLE bridge.document_states
(
    scope            nvarchar(150) COLLATE Latin1_General_100_BIN2     NOT NULL,
    document_key     nvarchar(300) COLLATE Latin1_General_100_BIN2     NOT NULL,
    applied_version  nvarchar(100)     NULL,
    resource_id      nvarchar(100)     NULL,
    deleted          bit               NOT NULL CONSTRAINT df_document_states_deleted DEFAULT (0),
    claimed_by       nvarchar(200)     NULL,
    claim_expires_at datetimeoffset(7) NULL,
    updated_at       datetimeoffset(7) NOT NULL,
    CONSTRAINT pk_document_states PRIMARY KEY CLUSTERED (scope, document_key)
);

CREATE TABLE bridge.outbox_messages
(
    id            uniqueidentifier  NOT NULL,
    message_type  nvarchar(200)     NOT NULL,
    body          nvarchar(max)     NOT NULL,
    headers       nvarchar(max)     NOT NULL,
    created_at    datetimeoffset(7) NOT NULL,
    dispatched_at datetimeoffset(7) NULL,
    attempts      int               NOT NULL CONSTRAINT df_outbox_messages_attempts DEFAULT (0),
    locked_by     nvarchar(200)     NULL,
    locked_until  datetimeoffset(7) NULL,
    last_error    nvarchar(max)     NULL,
    -- Random GUIDs as the clustered key would fragment the table; rows are clustered by age instead.
    CONSTRAINT pk_outbox_messages PRIMARY KEY NONCLUSTERED (id)
);

CREATE CLUSTERED INDEX cx_outbox_messages_created_at ON bridge.outbox_messages (created_at);

-- The dispatcher's claim query: undispatched rows, oldest first. Small because dispatched rows leave it.
CREATE INDEX ix_outbox_messages_pending ON bridge.outbox_messages (created_at, id)
    INCLUDE (locked_until)
    WHERE dispatched_at IS NULL;

-- Purge deletes dispatched rows by age.
CREATE INDEX ix_outbox_messages_dispatched_at ON bridge.outbox_messages (dispatched_at)
    WHERE dispatched_at IS NOT NULL;
