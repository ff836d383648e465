-- Bridge storage, version 2 (SQL Server): dead letters and what operators did with them.
-- One batch, no GO separators (the runner sends the script as one command).

CREATE TABLE bridge.dead_letters
(
    id                      uniqueidentifier  NOT NULL,
    source_queue            nvarchar(300)     NOT NULL,
    message_type            nvarchar(200)     NOT NULL,
    message_id              nvarchar(255) COLLATE Latin1_General_100_BIN2     NULL,
    erp_key                 nvarchar(300) COLLATE Latin1_General_100_BIN2     NULL,
    correlation_id          nvarchar(255)     NULL,
    content_type            nvarchar(255)     NULL,
    body                    nvarchar(max)     NOT NULL,
    body_encoding           nvarchar(10)      NOT NULL,
    headers                 nvarchar(max)     NOT NULL,
    exception_type          nvarchar(500)     NOT NULL,
    exception_message       nvarchar(max)     NOT NULL,
    stack_trace             nvarchar(max)     NULL,
    failure_group           nvarchar(64)      NOT NULL,
    normalized_message      nvarchar(1000)    NOT NULL,
    attempt_count           int               NOT NULL,
    failure_count           int               NOT NULL,
    first_failed_at         datetimeoffset(7) NOT NULL,
    last_failed_at          datetimeoffset(7) NOT NULL,
    status                  nvarchar(20)      NOT NULL,
    status_reason           nvarchar(max)     NULL,
    replay_claimed_by       nvarchar(200)     NULL,
    replay_claim_expires_at datetimeoffset(7) NULL,
    replay_count            int               NOT NULL CONSTRAINT df_dead_letters_replay_count DEFAULT (0),
    updated_at              datetimeoffset(7) NOT NULL,
    -- Random GUIDs as the clustered key would fragment the table; rows are clustered by last failure instead.
    CONSTRAINT pk_dead_letters PRIMARY KEY NONCLUSTERED (id),
    CONSTRAINT ck_dead_letters_status CHECK (status IN (N'Pending', N'Replaying', N'Replayed', N'Discarded')),
    CONSTRAINT ck_dead_letters_body_encoding CHECK (body_encoding IN (N'utf8', N'base64'))
);

CREATE CLUSTERED INDEX cx_dead_letters_last_failed_at ON bridge.dead_letters (last_failed_at);

-- One dead letter per message: a redelivery after a crash, or a replay that fails again, updates it.
CREATE UNIQUE INDEX ux_dead_letters_queue_message_id ON bridge.dead_letters (source_queue, message_id)
    WHERE message_id IS NOT NULL;

CREATE INDEX ix_dead_letters_status_last_failed_at ON bridge.dead_letters (status, last_failed_at);
CREATE INDEX ix_dead_letters_failure_group ON bridge.dead_letters (failure_group);
CREATE INDEX ix_dead_letters_erp_key ON bridge.dead_letters (erp_key) WHERE erp_key IS NOT NULL;

CREATE TABLE bridge.dead_letter_audit
(
    id             bigint IDENTITY(1, 1) NOT NULL,
    dead_letter_id uniqueidentifier      NOT NULL,
    at             datetimeoffset(7)     NOT NULL,
    actor          nvarchar(200)         NOT NULL,
    action         nvarchar(50)          NOT NULL,
    outcome        nvarchar(200)         NOT NULL,
    detail         nvarchar(max)         NULL,
    CONSTRAINT pk_dead_letter_audit PRIMARY KEY CLUSTERED (id),
    CONSTRAINT fk_dead_letter_audit_dead_letter FOREIGN KEY (dead_letter_id)
        REFERENCES bridge.dead_letters (id) ON DELETE CASCADE
);

CREATE INDEX ix_dead_letter_audit_dead_letter_id ON bridge.dead_letter_audit (dead_letter_id, id);
