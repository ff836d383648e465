-- Bridge storage, version 3 (SQL Server): the effect journal (ADR 0005). See the PostgreSQL script for the why.

CREATE TABLE bridge.effect_journal
(
    effect_id     char(64)                                      NOT NULL,
    scope         nvarchar(150) COLLATE Latin1_General_100_BIN2 NOT NULL,
    effect_key    nvarchar(600) COLLATE Latin1_General_100_BIN2 NOT NULL,
    group_key     nvarchar(300) COLLATE Latin1_General_100_BIN2 NOT NULL,
    owner_key     nvarchar(200) COLLATE Latin1_General_100_BIN2 NOT NULL,
    attempt_id    char(32)                                      NOT NULL,
    fingerprint   nvarchar(128)                                 NOT NULL,
    state         nvarchar(20)                                  NOT NULL,
    is_open       bit                                           NOT NULL,
    async_task_id nvarchar(100)                                 NULL,
    evidence      nvarchar(max)                                 NULL,
    resource_id   nvarchar(100)                                 NULL,
    sent_at       datetimeoffset(7)                             NOT NULL,
    updated_at    datetimeoffset(7)                             NOT NULL,
    CONSTRAINT pk_effect_journal PRIMARY KEY CLUSTERED (effect_id),
    CONSTRAINT ck_effect_journal_state CHECK (state IN (N'Sending', N'AsyncTask', N'Applied', N'NotApplied', N'Unknown')),
    CONSTRAINT ck_effect_journal_open CHECK (is_open = CASE WHEN state IN (N'Sending', N'AsyncTask') THEN 1 ELSE 0 END)
);

CREATE UNIQUE NONCLUSTERED INDEX ux_effect_journal_open_group ON bridge.effect_journal (scope, group_key) WHERE is_open = 1;

CREATE NONCLUSTERED INDEX ix_effect_journal_owner_key ON bridge.effect_journal (owner_key);

-- One ActivePlatform resource (a created document, payment or correction) belongs to one effect of its kind: a read-back
-- after a lost answer can never adopt what another effect already owns, even when two settle at once.
CREATE UNIQUE NONCLUSTERED INDEX ux_effect_journal_resource ON bridge.effect_journal (scope, resource_id) WHERE resource_id IS NOT NULL;
