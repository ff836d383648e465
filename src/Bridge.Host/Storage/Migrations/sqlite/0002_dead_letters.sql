-- Bridge storage, version 2 (SQLite): dead letters and what operators did with them.

CREATE TABLE dead_letters
(
    id                      TEXT    NOT NULL,
    source_queue            TEXT    NOT NULL,
    message_type            TEXT    NOT NULL,
    message_id              TEXT    NULL,
    erp_key                 TEXT    NULL,
    correlation_id          TEXT    NULL,
    content_type            TEXT    NULL,
    body                    TEXT    NOT NULL,
    body_encoding           TEXT    NOT NULL CHECK (body_encoding IN ('utf8', 'base64')),
    headers                 TEXT    NOT NULL,
    exception_type          TEXT    NOT NULL,
    exception_message       TEXT    NOT NULL,
    stack_trace             TEXT    NULL,
    failure_group           TEXT    NOT NULL,
    normalized_message      TEXT    NOT NULL,
    attempt_count           INTEGER NOT NULL,
    failure_count           INTEGER NOT NULL,
    first_failed_at         TEXT    NOT NULL,
    last_failed_at          TEXT    NOT NULL,
    status                  TEXT    NOT NULL CHECK (status IN ('Pending', 'Replaying', 'Replayed', 'Discarded')),
    status_reason           TEXT    NULL,
    replay_claimed_by       TEXT    NULL,
    replay_claim_expires_at TEXT    NULL,
    replay_count            INTEGER NOT NULL DEFAULT 0,
    updated_at              TEXT    NOT NULL,
    CONSTRAINT pk_dead_letters PRIMARY KEY (id)
);

-- One dead letter per message: a redelivery after a crash, or a replay that fails again, updates it.
CREATE UNIQUE INDEX ux_dead_letters_queue_message_id ON dead_letters (source_queue, message_id)
    WHERE message_id IS NOT NULL;

CREATE INDEX ix_dead_letters_status_last_failed_at ON dead_letters (status, last_failed_at);
CREATE INDEX ix_dead_letters_last_failed_at ON dead_letters (last_failed_at);
CREATE INDEX ix_dead_letters_failure_group ON dead_letters (failure_group);
CREATE INDEX ix_dead_letters_erp_key ON dead_letters (erp_key) WHERE erp_key IS NOT NULL;

CREATE TABLE dead_letter_audit
(
    id             INTEGER NOT NULL CONSTRAINT pk_dead_letter_audit PRIMARY KEY AUTOINCREMENT,
    dead_letter_id TEXT    NOT NULL CONSTRAINT fk_dead_letter_audit_dead_letter REFERENCES dead_letters (id) ON DELETE CASCADE,
    at             TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    action         TEXT    NOT NULL,
    outcome        TEXT    NOT NULL,
    detail         TEXT    NULL
);

CREATE INDEX ix_dead_letter_audit_dead_letter_id ON dead_letter_audit (dead_letter_id, id);
