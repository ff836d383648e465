-- Bridge storage, version 10 (SQL Server): replay jobs, so every instance lists them and an interrupted one says so.
-- The running instance's lease (by the database's clock) is renewed with every progress write.
-- One batch, no GO separators (the runner sends the script as one command).

CREATE TABLE bridge.replay_jobs
(
    id               uniqueidentifier  NOT NULL,
    state            nvarchar(16)      NOT NULL,
    requested_by     nvarchar(200)     NOT NULL,
    request          nvarchar(max)     NOT NULL,
    owner            nvarchar(200)     NOT NULL,
    started_at       datetimeoffset(7) NOT NULL,
    finished_at      datetimeoffset(7) NULL,
    batch_size       int               NOT NULL,
    rate_per_second  float             NOT NULL,
    total            int               NOT NULL,
    replayed         int               NOT NULL CONSTRAINT df_replay_jobs_replayed DEFAULT (0),
    skipped          int               NOT NULL CONSTRAINT df_replay_jobs_skipped DEFAULT (0),
    failed           int               NOT NULL CONSTRAINT df_replay_jobs_failed DEFAULT (0),
    not_found        int               NOT NULL CONSTRAINT df_replay_jobs_not_found DEFAULT (0),
    error            nvarchar(max)     NULL,
    cancel_requested bit               NOT NULL CONSTRAINT df_replay_jobs_cancel_requested DEFAULT (0),
    lease_expires_at datetimeoffset(7) NOT NULL,
    CONSTRAINT pk_replay_jobs PRIMARY KEY NONCLUSTERED (id),
    CONSTRAINT ck_replay_jobs_state CHECK (state IN (N'Running', N'Completed', N'Cancelled', N'Failed', N'Interrupted'))
);

CREATE CLUSTERED INDEX cx_replay_jobs_started_at ON bridge.replay_jobs (started_at);
CREATE INDEX ix_replay_jobs_running_lease ON bridge.replay_jobs (lease_expires_at) WHERE state = N'Running';
