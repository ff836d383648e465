-- Bridge storage, version 14 (SQL Server): the window of the instance that sent an effect.
-- An effect whose answer was lost is settled by whichever instance handles its group next, after the send can no longer be
-- carried out. That moment depends on the sender's ActivePlatform:TotalTimeout + AttemptTimeout (send_window_ms) and, for
-- a write that may have become an async task nobody polls, its AsyncTaskPolling:Deadline (task_deadline_ms). Each send
-- records its own, and a settling instance waits for the larger of the sender's and its own. NULL: sent by a Bridge older
-- than these columns; the settling instance's own values are used.
-- A Bridge older than these columns that sends an effect again (a restart of a NotApplied row) leaves the previous
-- attempt's values in place: a settling instance then waits for those too, never less than by its own.
ALTER TABLE bridge.effect_journal ADD send_window_ms bigint NULL, task_deadline_ms bigint NULL;
