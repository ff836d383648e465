-- Bridge storage, version 5 (SQL Server): outbox retries with backoff, and parking.
-- A message that fails to publish waits until next_attempt_at (set by the database's clock) before it is claimed again;
-- after too many attempts it is parked (parked_at set): kept, counted, never claimed again until requeued.
-- One batch (the runner sends the script as one command): the indexes name the new columns, so they are created through
-- EXEC, compiled only once the columns exist.

ALTER TABLE bridge.outbox_messages ADD
    next_attempt_at datetimeoffset(7) NULL,
    parked_at       datetimeoffset(7) NULL;

-- The dispatcher's claim query: messages never tried first, then oldest first, so failing ones never block newer ones.
EXEC (N'CREATE INDEX ix_outbox_messages_claimable ON bridge.outbox_messages (attempts, created_at, id)
    INCLUDE (locked_until, next_attempt_at)
    WHERE dispatched_at IS NULL AND parked_at IS NULL;');

-- Health and metrics count parked messages.
EXEC (N'CREATE INDEX ix_outbox_messages_parked ON bridge.outbox_messages (parked_at)
    WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;');
