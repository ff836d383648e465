-- Bridge storage, version 4 (SQLite): a dead letter is one message, not one message id.
-- Two different messages under one AMQP message_id (e.g. each with its own body idempotencyKey) were merged into one
-- dead letter, the second body lost. identity_hash is SHA-256 over the message id and the body's bytes
-- (SqlDeadLetterStore.IdentityHash): a redelivery, or a replay that fails again, has the same hash and counts on its dead
-- letter; another body under the same id is a dead letter of its own. Rows stored before this version have none and are
-- never merged into.

ALTER TABLE dead_letters ADD COLUMN identity_hash TEXT NULL;

DROP INDEX ux_dead_letters_queue_message_id;

CREATE UNIQUE INDEX ux_dead_letters_queue_identity_hash ON dead_letters (source_queue, identity_hash)
    WHERE identity_hash IS NOT NULL;
