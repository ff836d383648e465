-- Bridge storage, version 7 (SQL Server): operators resolve effects, and resolved effects are purged. See the PostgreSQL
-- script for the why.

CREATE TABLE bridge.effect_audit
(
    id        bigint IDENTITY(1, 1) NOT NULL,
    effect_id char(64)              NOT NULL,
    at        datetimeoffset(7)     NOT NULL,
    actor     nvarchar(200)         NOT NULL,
    action    nvarchar(50)          NOT NULL,
    outcome   nvarchar(200)         NOT NULL,
    detail    nvarchar(max)         NULL,
    CONSTRAINT pk_effect_audit PRIMARY KEY CLUSTERED (id),
    CONSTRAINT fk_effect_audit_effect FOREIGN KEY (effect_id)
        REFERENCES bridge.effect_journal (effect_id) ON DELETE CASCADE
);

CREATE NONCLUSTERED INDEX ix_effect_audit_effect_id ON bridge.effect_audit (effect_id, id);

CREATE NONCLUSTERED INDEX ix_effect_journal_state_sent_at ON bridge.effect_journal (state, sent_at);

CREATE NONCLUSTERED INDEX ix_effect_journal_resolved ON bridge.effect_journal (updated_at) WHERE state IN (N'Applied', N'NotApplied');
