-- Bridge storage, version 5 (SQLite): outbox retries with backoff, and parking.
-- A message that fails to publish waits until next_attempt_at (set by the database's clock) before it is claimed again;
-- after too many attempts it is parked (parked_at set): kept, counted, never claimed again until requeued.

ALTER TABLE outbox_messages ADD COLUMN next_attempt_at TEXT NULL;
ALTER TABLE outbox_messages ADD COLUMN parked_at TEXT NULL;

-- The dispatcher's claim query: messages never tried first, then oldest first, so failing ones never block newer ones.
CREATE INDEX ix_outbox_messages_claimable ON outbox_messages (attempts, created_at, id)
    WHERE dispatched_at IS NULL AND parked_at IS NULL;

-- Health and metrics count parked messages.
CREATE INDEX ix_outbox_messages_parked ON outbox_messages (parked_at)
    WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;
