-- Bridge storage, version 7 (SQLite): operators resolve effects, and resolved effects are purged. See the PostgreSQL
-- script for the why.

CREATE TABLE effect_audit
(
    id        INTEGER NOT NULL CONSTRAINT pk_effect_audit PRIMARY KEY AUTOINCREMENT,
    effect_id TEXT    NOT NULL CONSTRAINT fk_effect_audit_effect REFERENCES effect_journal (effect_id) ON DELETE CASCADE,
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    detail    TEXT    NULL
);

CREATE INDEX ix_effect_audit_effect_id ON effect_audit (effect_id, id);

CREATE INDEX ix_effect_journal_state_sent_at ON effect_journal (state, sent_at);

CREATE INDEX ix_effect_journal_resolved ON effect_journal (updated_at) WHERE state IN ('Applied', 'NotApplied');
