-- Bridge storage, version 16 (SQL Server): a dead letter holds its message's idempotency key.
-- A message is dead-lettered when its capture commits, and its delivery is acknowledged only after that: a crash in
-- between, or the ERP publishing the message again, brings it back while an operator owns it. Applied then, it would go
-- beside the letter's edit (another key) or beside what the operator decided. idempotency_key is the key the consumer
-- records the message under (the body's idempotencyKey, else the AMQP message_id, trimmed); a delivery of a key that has a
-- dead letter of its message type is held with it (dead-lettered again, never applied) unless it is a copy a replay of
-- that letter sent and still counts. Letters stored before this version have none until they fail again.
-- One batch, no GO separators; the index names the new column, so it is created by EXEC, compiled after the ALTER ran.
ALTER TABLE bridge.dead_letters ADD idempotency_key nvarchar(200) COLLATE Latin1_General_100_BIN2 NULL;

EXEC (N'CREATE INDEX ix_dead_letters_idempotency_key ON bridge.dead_letters (idempotency_key, message_type)
    WHERE idempotency_key IS NOT NULL;');
