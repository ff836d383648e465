-- Bridge storage, version 10 (SQLite): replay jobs, so every instance lists them and an interrupted one says so.
-- The running instance's lease (by the database's clock) is renewed with every progress write.

CREATE TABLE replay_jobs
(
    id               TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('Running', 'Completed', 'Cancelled', 'Failed', 'Interrupted')),
    requested_by     TEXT    NOT NULL,
    request          TEXT    NOT NULL,
    owner            TEXT    NOT NULL,
    started_at       TEXT    NOT NULL,
    finished_at      TEXT    NULL,
    batch_size       INTEGER NOT NULL,
    rate_per_second  REAL    NOT NULL,
    total            INTEGER NOT NULL,
    replayed         INTEGER NOT NULL DEFAULT 0,
    skipped          INTEGER NOT NULL DEFAULT 0,
    failed           INTEGER NOT NULL DEFAULT 0,
    not_found        INTEGER NOT NULL DEFAULT 0,
    error            TEXT    NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    lease_expires_at TEXT    NOT NULL,
    CONSTRAINT pk_replay_jobs PRIMARY KEY (id)
);

CREATE INDEX ix_replay_jobs_started_at ON replay_jobs (started_at);
CREATE INDEX ix_replay_jobs_running_lease ON replay_jobs (lease_expires_at) WHERE state = 'Running';
