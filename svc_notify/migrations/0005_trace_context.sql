-- The W3C trace context ({"traceparent": ..., "tracestate": ...}) of the event that scheduled a
-- reminder, copied to the webhook deliveries its firing writes, so that each delivery is traced
-- in the trace of the request that caused it (todo_runtime.tracing). NULL: tracing was off, or
-- the row was written before this column existed; its delivery then starts a trace of its own.
ALTER TABLE reminders ADD COLUMN trace_context jsonb;
ALTER TABLE webhook_deliveries ADD COLUMN trace_context jsonb;
