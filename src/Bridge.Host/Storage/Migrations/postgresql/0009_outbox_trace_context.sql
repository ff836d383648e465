-- Bridge storage, version 9 (PostgreSQL): the trace context of the handling that wrote a result event.
-- The dispatcher publishes the event under the W3C traceparent/tracestate headers, as a child of that handling's trace.

ALTER TABLE bridge.outbox_messages ADD COLUMN trace_parent varchar(55) NULL;
ALTER TABLE bridge.outbox_messages ADD COLUMN trace_state varchar(512) NULL;
