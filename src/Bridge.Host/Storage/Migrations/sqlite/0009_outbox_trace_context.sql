-- Bridge storage, version 9 (SQLite): the trace context of the handling that wrote a result event.
-- The dispatcher publishes the event under the W3C traceparent/tracestate headers, as a child of that handling's trace.

ALTER TABLE outbox_messages ADD COLUMN trace_parent TEXT NULL;
ALTER TABLE outbox_messages ADD COLUMN trace_state TEXT NULL;
