-- Bridge storage, version 1 (SQLite).
-- Timestamps are UTC text in one fixed-width format (yyyy-MM-ddTHH:mm:ss.fffffffZ), so text order is time order.
-- Ids are GUID text (lower-case, with hyphens). The runner creates schema_versions and runs each script in one
-- BEGIN IMMEDIATE transaction.

CREATE TABLE idempotency_records
(
    idempotency_key       TEXT NOT NULL,
    message_type          TEXT NOT NULL,
    fingerprint           TEXT NOT NULL,
    document_key          TEXT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('InProgress', 'Completed')),
    outcome               TEXT NULL,
    resource_id           TEXT NULL,
    pending_async_task_id TEXT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    CONSTRAINT pk_idempotency_records PRIMARY KEY (idempotency_key)
);

-- Purge deletes completed records by age.
CREATE INDEX ix_idempotency_records_state_updated_at ON idempotency_records (state, updated_at);

-- Operators look up every message seen for one document.
CREATE INDEX ix_idempotency_records_document_key ON idempotency_records (document_key)
    WHERE document_key IS NOT NULL;

CREATE TABLE document_states
(
    scope            TEXT    NOT NULL,
    document_key     TEXT    NOT NULL,
    applied_version  TEXT    NULL,
    resource_id      TEXT    NULL,
    deleted          INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    claimed_by       TEXT    NULL,
    claim_expires_at TEXT    NULL,
    updated_at       TEXT    NOT NULL,
    CONSTRAINT pk_document_states PRIMARY KEY (scope, document_key)
);

CREATE TABLE outbox_messages
(
    id            TEXT    NOT NULL,
    message_type  TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    headers       TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    dispatched_at TEXT    NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    locked_by     TEXT    NULL,
    locked_until  TEXT    NULL,
    last_error    TEXT    NULL,
    CONSTRAINT pk_outbox_messages PRIMARY KEY (id)
);

-- The dispatcher's claim query: undispatched rows, oldest first. Small because dispatched rows leave it.
CREATE INDEX ix_outbox_messages_pending ON outbox_messages (created_at, id)
    WHERE dispatched_at IS NULL;

-- Purge deletes dispatched rows by age.
CREATE INDEX ix_outbox_messages_dispatched_at ON outbox_messages (dispatched_at)
    WHERE dispatched_at IS NOT NULL;
