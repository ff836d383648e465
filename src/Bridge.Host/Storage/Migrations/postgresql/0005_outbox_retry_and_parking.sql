-- Bridge storage, version 5 (PostgreSQL): outbox retries with backoff, and parking.
-- A message that fails to publish waits until next_attempt_at (set by the database's clock) before it is claimed again;
-- after too many attempts it is parked (parked_at set): kept, counted, never claimed again until requeued.

ALTER TABLE bridge.outbox_messages ADD COLUMN next_attempt_at timestamptz NULL;
ALTER TABLE bridge.outbox_messages ADD COLUMN parked_at timestamptz NULL;

-- The dispatcher's claim query: messages never tried first, then oldest first, so failing ones never block newer ones.
CREATE INDEX ix_outbox_messages_claimable ON bridge.outbox_messages (attempts, created_at, id)
    WHERE dispatched_at IS NULL AND parked_at IS NULL;

-- Health and metrics count parked messages.
CREATE INDEX ix_outbox_messages_parked ON bridge.outbox_messages (parked_at)
    WHERE dispatched_at IS NULL AND parked_at IS NOT NULL;
