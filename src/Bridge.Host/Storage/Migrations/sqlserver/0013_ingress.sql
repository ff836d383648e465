-- Bridge storage, version 13 (SQL Server): the HTTP door for ERPs without AMQP.
-- ingress_submissions: one row per idempotency key submitted over HTTP, with the ERP client that sent it and the payload's
-- fingerprint, so the same key with another body is refused at the door (409) and a status is shown only to its sender.
-- confirmed_at is set once the broker confirmed the publish: a row without it was never answered 202.
-- One batch, no GO separators (the runner sends the script as one command): the index on the new outbox column is created
-- through EXEC, because the batch is compiled before the column exists.

CREATE TABLE bridge.ingress_submissions
(
    idempotency_key nvarchar(200) COLLATE Latin1_General_100_BIN2 NOT NULL,
    message_type    nvarchar(200)     NOT NULL,
    fingerprint     nvarchar(128)     NOT NULL,
    client          nvarchar(100)     NOT NULL,
    created_at      datetimeoffset(7) NOT NULL,
    confirmed_at    datetimeoffset(7) NULL,
    CONSTRAINT pk_ingress_submissions PRIMARY KEY (idempotency_key)
);

CREATE INDEX ix_ingress_submissions_created_at ON bridge.ingress_submissions (created_at);

-- The idempotency key of the message a result event answers, so a status lookup finds the event.
ALTER TABLE bridge.outbox_messages ADD source_message_id nvarchar(200) COLLATE Latin1_General_100_BIN2 NULL;
EXEC (N'CREATE INDEX ix_outbox_messages_source_message_id ON bridge.outbox_messages (source_message_id) WHERE source_message_id IS NOT NULL;');

-- A status lookup finds a message's dead letter by its id.
CREATE INDEX ix_dead_letters_message_id ON bridge.dead_letters (message_id) WHERE message_id IS NOT NULL;
