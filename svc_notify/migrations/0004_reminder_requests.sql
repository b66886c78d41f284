-- The correlation id of the request that scheduled a reminder (NULL: none, or scheduled before
-- this column existed): its `reminders` event carries the id when it fires (request_context).
ALTER TABLE reminders ADD COLUMN correlation_id text;
