-- Bridge storage, version 10 (PostgreSQL): replay jobs, so every instance lists them and an interrupted one says so.
-- The running instance's lease (by the database's clock) is renewed with every progress write.

CREATE TABLE bridge.replay_jobs
(
    id               uuid             NOT NULL,
    state            varchar(16)      NOT NULL,
    requested_by     varchar(200)     NOT NULL,
    request          text             NOT NULL,
    owner            varchar(200)     NOT NULL,
    started_at       timestamptz      NOT NULL,
    finished_at      timestamptz      NULL,
    batch_size       integer          NOT NULL,
    rate_per_second  double precision NOT NULL,
    total            integer          NOT NULL,
    replayed         integer          NOT NULL DEFAULT 0,
    skipped          integer          NOT NULL DEFAULT 0,
    failed           integer          NOT NULL DEFAULT 0,
    not_found        integer          NOT NULL DEFAULT 0,
    error            text             NULL,
    cancel_requested boolean          NOT NULL DEFAULT FALSE,
    lease_expires_at timestamptz      NOT NULL,
    CONSTRAINT pk_replay_jobs PRIMARY KEY (id),
    CONSTRAINT ck_replay_jobs_state CHECK (state IN ('Running', 'Completed', 'Cancelled', 'Failed', 'Interrupted'))
);

CREATE INDEX ix_replay_jobs_started_at ON bridge.replay_jobs (started_at);
CREATE INDEX ix_replay_jobs_running_lease ON bridge.replay_jobs (lease_expires_at) WHERE state = 'Running';
