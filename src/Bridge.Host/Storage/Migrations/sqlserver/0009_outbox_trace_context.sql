-- Bridge storage, version 9 (SQL Server): the trace context of the handling that wrote a result event.
-- The dispatcher publishes the event under the W3C traceparent/tracestate headers, as a child of that handling's trace.

ALTER TABLE bridge.outbox_messages ADD
    trace_parent varchar(55)  NULL,
    trace_state  varchar(512) NULL;
