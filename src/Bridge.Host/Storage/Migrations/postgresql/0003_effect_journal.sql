-- Bridge storage, version 3 (PostgreSQL): the effect journal (ADR 0005).
-- One row per effect Bridge sends to ActivePlatform that has no idempotency of its own there: a closing-document
-- create, a statement line, a top-up, a correction. The row is written before the call (Sending), carries the async
-- task id once known (AsyncTask) and is closed with what decided it (Applied, NotApplied, Unknown). Times are the
-- database's own, so no instance's clock decides how long an outcome has been unknown.

CREATE TABLE bridge.effect_journal
(
    effect_id     char(64)     NOT NULL,
    scope         varchar(150) NOT NULL,
    effect_key    varchar(600) NOT NULL,
    group_key     varchar(300) NOT NULL,
    owner_key     varchar(200) NOT NULL,
    attempt_id    varchar(32) NOT NULL,
    fingerprint   varchar(128) NOT NULL,
    state         varchar(20)  NOT NULL,
    is_open       boolean      NOT NULL,
    async_task_id varchar(100) NULL,
    evidence      text         NULL,
    resource_id   varchar(100) NULL,
    sent_at       timestamptz  NOT NULL,
    updated_at    timestamptz  NOT NULL,
    CONSTRAINT pk_effect_journal PRIMARY KEY (effect_id),
    CONSTRAINT ck_effect_journal_state CHECK (state IN ('Sending', 'AsyncTask', 'Applied', 'NotApplied', 'Unknown')),
    CONSTRAINT ck_effect_journal_open CHECK (is_open = (state IN ('Sending', 'AsyncTask')))
);

-- At most one effect whose outcome is not known yet per group (one payment's statement lines, one document's creates):
-- a second send while the first is unresolved cannot be recorded, so it cannot be made.
CREATE UNIQUE INDEX ux_effect_journal_open_group ON bridge.effect_journal (scope, group_key) WHERE is_open;

CREATE INDEX ix_effect_journal_owner_key ON bridge.effect_journal (owner_key);

-- One ActivePlatform resource (a created document, payment or correction) belongs to one effect of its kind: a read-back
-- after a lost answer can never adopt what another effect already owns, even when two settle at once.
CREATE UNIQUE INDEX ux_effect_journal_resource ON bridge.effect_journal (scope, resource_id) WHERE resource_id IS NOT NULL;
