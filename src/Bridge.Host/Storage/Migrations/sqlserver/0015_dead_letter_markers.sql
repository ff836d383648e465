-- Bridge storage, version 15 (SQL Server): what of a dead letter may be in its queue, on the letter's own row.
-- An edit and the original are different messages (different idempotency keys): both reaching the queue applies the
-- effect twice. The claims therefore judge columns of the row they lock, never another table: a claim that waited for the
-- row re-checks only the row's own columns, anything else it reads is as of its start (read committed snapshot, as
-- PostgreSQL's READ COMMITTED).
--   edit_message_id: the message id of the edit whose send was begun (set by the edit's claim, never cleared). Only that
--     edit may be sent again; the original is never replayed, nor another edit sent.
--   original_sent_at: when a replay last claimed the original, while a copy it sent (or began sending) may still be in the
--     queue; NULL once every such copy was seen failing again. No edit is sent while it is set.
--   original_copies: how many such copies: a replay's claim adds one, a capture of a replayed copy (header
--     Bridge-Replay-Of) takes one away; original_sent_at is cleared when none is left (NULL exactly when this is 0).
-- One batch, no GO separators (the runner sends the script as one command): the backfills run through EXEC, because the
-- batch is compiled before the columns exist.
ALTER TABLE bridge.dead_letters ADD
    edit_message_id  nvarchar(36) COLLATE Latin1_General_100_BIN2 NULL,
    original_sent_at datetimeoffset(7) NULL,
    original_copies  int NOT NULL CONSTRAINT df_dead_letters_original_copies DEFAULT (0);

-- Letters an edit was sent for, or begun, before this version: its audit names the new message ('new message <id>').
-- One that was certainly sent (Discarded, Sent) wins over one whose send is unknown, else the latest.
EXEC (N'
UPDATE d
SET edit_message_id = (SELECT TOP (1) SUBSTRING(a.detail, 13, 36) FROM bridge.dead_letter_audit a
                       WHERE a.dead_letter_id = d.id AND a.action = N''EditAndReplay'' AND a.detail LIKE N''new message %''
                         AND a.outcome NOT LIKE N''Refused%''
                       ORDER BY CASE WHEN a.outcome IN (N''Discarded'', N''Sent'') THEN 0 ELSE 1 END, a.id DESC)
FROM bridge.dead_letters d
WHERE EXISTS (SELECT 1 FROM bridge.dead_letter_audit a
              WHERE a.dead_letter_id = d.id AND a.action = N''EditAndReplay'' AND a.detail LIKE N''new message %''
                AND a.outcome NOT LIKE N''Refused%'');
');

-- Letters whose original a replay sent, or began to, and no capture followed: being replayed now, or a replay (sent,
-- failed or left to its lease) is the last thing that happened to them.
EXEC (N'
UPDATE d
SET original_sent_at = d.updated_at, original_copies = 1
FROM bridge.dead_letters d
WHERE d.edit_message_id IS NULL
  AND (d.status = N''Replaying''
       OR (SELECT TOP (1) a.action FROM bridge.dead_letter_audit a
           WHERE a.dead_letter_id = d.id
             AND (a.action IN (N''Captured'', N''FailedAgain'', N''ReplayLeaseExpired'')
                  OR (a.action = N''Replay'' AND (a.outcome = N''Replayed'' OR a.outcome LIKE N''Failed:%'')))
           ORDER BY a.id DESC) IN (N''Replay'', N''ReplayLeaseExpired''));
');

-- How many copies: each replay since the letter's last capture (sent, failed or left to its lease) may have left one in the
-- queue, and a replay under way one more; at least one for a letter marked above. Counted high rather than low: too high
-- only keeps an edit out longer.
EXEC (N'
UPDATE d
SET original_copies = (SELECT MAX(v) FROM (VALUES (1),
        ((SELECT COUNT(*) FROM bridge.dead_letter_audit a
          WHERE a.dead_letter_id = d.id
            AND (a.action = N''ReplayLeaseExpired'' OR (a.action = N''Replay'' AND (a.outcome = N''Replayed'' OR a.outcome LIKE N''Failed:%'')))
            AND a.id > COALESCE((SELECT MAX(b.id) FROM bridge.dead_letter_audit b
                                 WHERE b.dead_letter_id = d.id AND b.action IN (N''Captured'', N''FailedAgain'')), 0))
         + CASE WHEN d.status = N''Replaying'' THEN 1 ELSE 0 END)) AS n(v))
FROM bridge.dead_letters d
WHERE d.original_copies > 0;
');

-- Each copy a replay sends, by the id it carries (header Bridge-Replay-Copy): a capture takes a copy away only by deleting
-- its row, so one copy captured twice (a delivery redelivered after its capture committed, the error-queue sweep importing it
-- again) is counted once. Copies sent before this version carry no id and are taken away by their Bridge-Replay-Of alone.
CREATE TABLE bridge.dead_letter_replay_copies
(
    dead_letter_id uniqueidentifier NOT NULL,
    copy_id        nvarchar(36) COLLATE Latin1_General_100_BIN2 NOT NULL,
    claimed_at     datetimeoffset(7) NOT NULL,
    CONSTRAINT pk_dead_letter_replay_copies PRIMARY KEY (dead_letter_id, copy_id),
    CONSTRAINT fk_dead_letter_replay_copies_dead_letter FOREIGN KEY (dead_letter_id)
        REFERENCES bridge.dead_letters (id) ON DELETE CASCADE
);
