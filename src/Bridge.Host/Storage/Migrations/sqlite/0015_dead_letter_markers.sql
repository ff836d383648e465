-- Bridge storage, version 15 (SQLite): what of a dead letter may be in its queue, on the letter's own row.
-- An edit and the original are different messages (different idempotency keys): both reaching the queue applies the
-- effect twice. The claims therefore judge columns of the row they lock, never another table: a claim that waited for the
-- row re-checks only the row's own columns, anything else it reads is as of its start (PostgreSQL's READ COMMITTED,
-- SQL Server's read committed snapshot; SQLite has one writer at a time, the same rule holds).
--   edit_message_id: the message id of the edit whose send was begun (set by the edit's claim, never cleared). Only that
--     edit may be sent again; the original is never replayed, nor another edit sent.
--   original_sent_at: when a replay last claimed the original, while a copy it sent (or began sending) may still be in the
--     queue; NULL once every such copy was seen failing again. No edit is sent while it is set.
--   original_copies: how many such copies: a replay's claim adds one, a capture of a replayed copy (header
--     Bridge-Replay-Of) takes one away; original_sent_at is cleared when none is left (NULL exactly when this is 0).
ALTER TABLE dead_letters ADD COLUMN edit_message_id TEXT NULL;
ALTER TABLE dead_letters ADD COLUMN original_sent_at TEXT NULL;
ALTER TABLE dead_letters ADD COLUMN original_copies INTEGER NOT NULL DEFAULT 0;

-- Letters an edit was sent for, or begun, before this version: its audit names the new message ('new message <id>').
-- One that was certainly sent (Discarded, Sent) wins over one whose send is unknown, else the latest.
UPDATE dead_letters
SET edit_message_id = (SELECT substr(a.detail, 13, 36) FROM dead_letter_audit a
                       WHERE a.dead_letter_id = dead_letters.id AND a.action = 'EditAndReplay' AND a.detail LIKE 'new message %'
                         AND a.outcome NOT LIKE 'Refused%'
                       ORDER BY CASE WHEN a.outcome IN ('Discarded', 'Sent') THEN 0 ELSE 1 END, a.id DESC
                       LIMIT 1)
WHERE EXISTS (SELECT 1 FROM dead_letter_audit a
              WHERE a.dead_letter_id = dead_letters.id AND a.action = 'EditAndReplay' AND a.detail LIKE 'new message %'
                AND a.outcome NOT LIKE 'Refused%');

-- Letters whose original a replay sent, or began to, and no capture followed: being replayed now, or a replay (sent,
-- failed or left to its lease) is the last thing that happened to them.
UPDATE dead_letters
SET original_sent_at = dead_letters.updated_at, original_copies = 1
WHERE dead_letters.edit_message_id IS NULL
  AND (dead_letters.status = 'Replaying'
       OR (SELECT a.action FROM dead_letter_audit a
           WHERE a.dead_letter_id = dead_letters.id
             AND (a.action IN ('Captured', 'FailedAgain', 'ReplayLeaseExpired')
                  OR (a.action = 'Replay' AND (a.outcome = 'Replayed' OR a.outcome LIKE 'Failed:%')))
           ORDER BY a.id DESC
           LIMIT 1) IN ('Replay', 'ReplayLeaseExpired'));

-- How many copies: each replay since the letter's last capture (sent, failed or left to its lease) may have left one in the
-- queue, and a replay under way one more; at least one for a letter marked above. Counted high rather than low: too high
-- only keeps an edit out longer.
UPDATE dead_letters
SET original_copies = max(1,
        (SELECT count(*) FROM dead_letter_audit a
         WHERE a.dead_letter_id = dead_letters.id
           AND (a.action = 'ReplayLeaseExpired' OR (a.action = 'Replay' AND (a.outcome = 'Replayed' OR a.outcome LIKE 'Failed:%')))
           AND a.id > COALESCE((SELECT max(b.id) FROM dead_letter_audit b
                                WHERE b.dead_letter_id = dead_letters.id AND b.action IN ('Captured', 'FailedAgain')), 0))
        + CASE WHEN dead_letters.status = 'Replaying' THEN 1 ELSE 0 END)
WHERE dead_letters.original_copies > 0;

-- Each copy a replay sends, by the id it carries (header Bridge-Replay-Copy): a capture takes a copy away only by deleting
-- its row, so one copy captured twice (a delivery redelivered after its capture committed, the error-queue sweep importing it
-- again) is counted once. Copies sent before this version carry no id and are taken away by their Bridge-Replay-Of alone.
CREATE TABLE dead_letter_replay_copies
(
    dead_letter_id TEXT NOT NULL CONSTRAINT fk_dead_letter_replay_copies_dead_letter REFERENCES dead_letters (id) ON DELETE CASCADE,
    copy_id        TEXT NOT NULL,
    claimed_at     TEXT NOT NULL,
    CONSTRAINT pk_dead_letter_replay_copies PRIMARY KEY (dead_letter_id, copy_id)
);
