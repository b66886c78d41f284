-- The id of each topic a relay publishes to, as the broker last reported it:
-- a different id means the topic was created anew and lost its records, so
-- the relay publishes its retained rows again (todo_runtime.topic_epochs).
CREATE TABLE topic_epochs (
    topic text PRIMARY KEY,
    topic_id text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now()
);

-- Retention sweeps delete by age.
CREATE INDEX outbox_created_at ON outbox (created_at);
CREATE INDEX processed_events_processed_at ON processed_events (processed_at);
