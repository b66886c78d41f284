-- Completions are now recognised by the runtime's inbox (processed_events), in
-- the same transaction as the next-instance request.
DROP TABLE processed_completions;
