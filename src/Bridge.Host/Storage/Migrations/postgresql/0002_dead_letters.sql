-- Bridge storage, version 2 (PostgreSQL): dead letters and what operators did with them.
-- Lengths match the SQL Server script.

CREATE TABLE bridge.dead_letters
(
    id                      uuid          NOT NULL,
    source_queue            varchar(300)  NOT NULL,
    message_type            varchar(200)  NOT NULL,
    message_id              varchar(255)  NULL,
    erp_key                 varchar(300)  NULL,
    correlation_id          varchar(255)  NULL,
    content_type            varchar(255)  NULL,
    body                    text          NOT NULL,
    body_encoding           varchar(10)   NOT NULL,
    headers                 text          NOT NULL,
    exception_type          varchar(500)  NOT NULL,
    exception_message       text          NOT NULL,
    stack_trace             text          NULL,
    failure_group           varchar(64)   NOT NULL,
    normalized_message      varchar(1000) NOT NULL,
    attempt_count           integer       NOT NULL,
    failure_count           integer       NOT NULL,
    first_failed_at         timestamptz   NOT NULL,
    last_failed_at          timestamptz   NOT NULL,
    status                  varchar(20)   NOT NULL,
    status_reason           text          NULL,
    replay_claimed_by       varchar(200)  NULL,
    replay_claim_expires_at timestamptz   NULL,
    replay_count            integer       NOT NULL DEFAULT 0,
    updated_at              timestamptz   NOT NULL,
    CONSTRAINT pk_dead_letters PRIMARY KEY (id),
    CONSTRAINT ck_dead_letters_status CHECK (status IN ('Pending', 'Replaying', 'Replayed', 'Discarded')),
    CONSTRAINT ck_dead_letters_body_encoding CHECK (body_encoding IN ('utf8', 'base64'))
);

-- One dead letter per message: a redelivery after a crash, or a replay that fails again, updates it.
CREATE UNIQUE INDEX ux_dead_letters_queue_message_id ON bridge.dead_letters (source_queue, message_id)
    WHERE message_id IS NOT NULL;

-- The list: by status, newest failure first; retention purges by last failure.
CREATE INDEX ix_dead_letters_status_last_failed_at ON bridge.dead_letters (status, last_failed_at);
CREATE INDEX ix_dead_letters_last_failed_at ON bridge.dead_letters (last_failed_at);
CREATE INDEX ix_dead_letters_failure_group ON bridge.dead_letters (failure_group);
CREATE INDEX ix_dead_letters_erp_key ON bridge.dead_letters (erp_key) WHERE erp_key IS NOT NULL;

CREATE TABLE bridge.dead_letter_audit
(
    id             bigint GENERATED ALWAYS AS IDENTITY,
    dead_letter_id uuid         NOT NULL,
    at             timestamptz  NOT NULL,
    actor          varchar(200) NOT NULL,
    action         varchar(50)  NOT NULL,
    outcome        varchar(200) NOT NULL,
    detail         text         NULL,
    CONSTRAINT pk_dead_letter_audit PRIMARY KEY (id),
    CONSTRAINT fk_dead_letter_audit_dead_letter FOREIGN KEY (dead_letter_id)
        REFERENCES bridge.dead_letters (id) ON DELETE CASCADE
);

CREATE INDEX ix_dead_letter_audit_dead_letter_id ON bridge.dead_letter_audit (dead_letter_id, id);
