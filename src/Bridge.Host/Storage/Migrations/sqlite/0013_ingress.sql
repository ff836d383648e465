-- Bridge storage, version 13 (SQLite): the HTTP door for ERPs without AMQP.
-- ingress_submissions: one row per idempotency key submitted over HTTP, with the ERP client that sent it and the payload's
-- fingerprint, so the same key with another body is refused at the door (409) and a status is shown only to its sender.
-- confirmed_at is set once the broker confirmed the publish: a row without it was never answered 202.

CREATE TABLE ingress_submissions
(
    idempotency_key TEXT NOT NULL,
    message_type    TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    client          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    confirmed_at    TEXT NULL,
    CONSTRAINT pk_ingress_submissions PRIMARY KEY (idempotency_key)
);

CREATE INDEX ix_ingress_submissions_created_at ON ingress_submissions (created_at);

-- The idempotency key of the message a result event answers, so a status lookup finds the event.
ALTER TABLE outbox_messages ADD COLUMN source_message_id TEXT NULL;
CREATE INDEX ix_outbox_messages_source_message_id ON outbox_messages (source_message_id)
    WHERE source_message_id IS NOT NULL;

-- A status lookup finds a message's dead letter by its id.
CREATE INDEX ix_dead_letters_message_id ON dead_letters (message_id) WHERE message_id IS NOT NULL;
