-- Bridge storage, version 17 (PostgreSQL): an edit of a dead letter holds its message's key against deliveries in flight.
-- A delivery of the message that began before the letter was captured (the ERP's own duplicate, waiting for the document
-- while the failing delivery's retries ran) read no letter when it began, and could send its effect beside the edit the
-- operator sent meanwhile under another key. edit_letter_id is written on the key's record by the edit's claim, in the
-- transaction that claims the letter; every effect's journal entry — written, committed, before the call is sent — reads
-- it under a share lock on the record and is refused once it is set; the claim waits for those locks and is refused while
-- an effect of the key is recorded (sent, applied or unknown). One of the two comes first; never both.
-- Calls that journal nothing first (invoice approvals, completions and revocations, correction approvals and declines,
-- notification runs) leave no entry for the claim to see: right before such a call the delivery stamps its record with
-- unjournaled_send_at, under the same condition (no edit holds the key), and an edit is refused once a delivery of the key
-- stamped it — the call's outcome cannot be told from here.
ALTER TABLE bridge.idempotency_records ADD COLUMN edit_letter_id uuid NULL;
ALTER TABLE bridge.idempotency_records ADD COLUMN unjournaled_send_at timestamptz NULL;
