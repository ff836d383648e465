-- Bridge storage, version 1 (PostgreSQL).
-- The runner creates the bridge schema and bridge.schema_versions before any script and runs each script in one
-- transaction. Lengths match the SQL Server script so a key accepted here is accepted there too.

CREATE TABLE bridge.idempotency_records
(
    idempotency_key       varchar(200) NOT NULL,
    message_type          varchar(200) NOT NULL,
    fingerprint           varchar(128) NOT NULL,
    document_key          varchar(300) NULL,
    state                 varchar(20)  NOT NULL,
    outcome               text         NULL,
    resource_id           varchar(100) NULL,
    pending_async_task_id varchar(100) NULL,
    created_at            timestamptz  NOT NULL,
    updated_at            timestamptz  NOT NULL,
    CONSTRAINT pk_idempotency_records PRIMARY KEY (idempotency_key),
    CONSTRAINT ck_idempotency_records_state CHECK (state IN ('InProgress', 'Completed'))
);

-- Purge deletes completed records by age.
CREATE INDEX ix_idempotency_records_state_updated_at ON bridge.idempotency_records (state, updated_at);

-- Operators look up every message seen for one document.
CREATE INDEX ix_idempotency_records_document_key ON bridge.idempotency_records (document_key)
    WHERE document_key IS NOT NULL;

CREATE TABLE bridge.document_states
(
    scope            varchar(150) NOT NULL,
    document_key     varchar(300) NOT NULL,
    applied_version  varchar(100) NULL,
    resource_id      varchar(100) NULL,
    deleted          boolean      NOT NULL DEFAULT false,
    claimed_by       varchar(200) NULL,
    claim_expires_at timestamptz  NULL,
    updated_at       timestamptz  NOT NULL,
    CONSTRAINT pk_document_states PRIMARY KEY (scope, document_key)
);

CREATE TABLE bridge.outbox_messages
(
    id            uuid         NOT NULL,
    message_type  varchar(200) NOT NULL,
    body          text         NOT NULL,
    headers       text         NOT NULL,
    created_at    timestamptz  NOT NULL,
    dispatched_at timestamptz  NULL,
    attempts      integer      NOT NULL DEFAULT 0,
    locked_by     varchar(200) NULL,
    locked_until  timestamptz  NULL,
    last_error    text         NULL,
    CONSTRAINT pk_outbox_messages PRIMARY KEY (id)
);

-- The dispatcher's claim query: undispatched rows, oldest first. Small because dispatched rows leave it.
CREATE INDEX ix_outbox_messages_pending ON bridge.outbox_messages (created_at, id)
    WHERE dispatched_at IS NULL;

-- Purge deletes dispatched rows by age.
CREATE INDEX ix_outbox_messages_dispatched_at ON bridge.outbox_messages (dispatched_at)
    WHERE dispatched_at IS NOT NULL;
