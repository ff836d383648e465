-- Bridge storage, version 3 (SQLite): the effect journal (ADR 0005). See the PostgreSQL script for the why.
-- Times are written by the database (strftime, UTC, ISO 8601 with milliseconds).

CREATE TABLE effect_journal
(
    effect_id     TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    effect_key    TEXT    NOT NULL,
    group_key     TEXT    NOT NULL,
    owner_key     TEXT    NOT NULL,
    attempt_id    TEXT    NOT NULL,
    fingerprint   TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    is_open       INTEGER NOT NULL,
    async_task_id TEXT    NULL,
    evidence      TEXT    NULL,
    resource_id   TEXT    NULL,
    sent_at       TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    CONSTRAINT pk_effect_journal PRIMARY KEY (effect_id),
    CONSTRAINT ck_effect_journal_state CHECK (state IN ('Sending', 'AsyncTask', 'Applied', 'NotApplied', 'Unknown')),
    CONSTRAINT ck_effect_journal_open CHECK (is_open = (CASE WHEN state IN ('Sending', 'AsyncTask') THEN 1 ELSE 0 END))
);

CREATE UNIQUE INDEX ux_effect_journal_open_group ON effect_journal (scope, group_key) WHERE is_open = 1;

CREATE INDEX ix_effect_journal_owner_key ON effect_journal (owner_key);

-- One ActivePlatform resource (a created document, payment or correction) belongs to one effect of its kind: a read-back
-- after a lost answer can never adopt what another effect already owns, even when two settle at once.
CREATE UNIQUE INDEX ux_effect_journal_resource ON effect_journal (scope, resource_id) WHERE resource_id IS NOT NULL;
