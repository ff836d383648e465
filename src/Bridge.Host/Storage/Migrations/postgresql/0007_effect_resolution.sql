-- Bridge storage, version 7 (PostgreSQL): operators resolve effects, and resolved effects are purged.
-- effect_audit records every operator action on an effect (resolutions and refused attempts): who, when, what, with the
-- operator's note. It goes with its effect when a resolved effect is purged past retention; Unknown and open effects are
-- never purged, so neither is their audit.

CREATE TABLE bridge.effect_audit
(
    id        bigint GENERATED ALWAYS AS IDENTITY,
    effect_id char(64)     NOT NULL,
    at        timestamptz  NOT NULL,
    actor     varchar(200) NOT NULL,
    action    varchar(50)  NOT NULL,
    outcome   varchar(200) NOT NULL,
    detail    text         NULL,
    CONSTRAINT pk_effect_audit PRIMARY KEY (id),
    CONSTRAINT fk_effect_audit_effect FOREIGN KEY (effect_id)
        REFERENCES bridge.effect_journal (effect_id) ON DELETE CASCADE
);

CREATE INDEX ix_effect_audit_effect_id ON bridge.effect_audit (effect_id, id);

-- Operators list effects by state, oldest send first.
CREATE INDEX ix_effect_journal_state_sent_at ON bridge.effect_journal (state, sent_at);

-- Retention purges resolved effects by when they were resolved.
CREATE INDEX ix_effect_journal_resolved ON bridge.effect_journal (updated_at) WHERE state IN ('Applied', 'NotApplied');
