-- Completions svc_recur has turned into a next instance (or found to end their
-- series): a redelivered completion is recognised here before any call is made.
CREATE TABLE processed_completions (
    event_id text PRIMARY KEY,
    task_id uuid NOT NULL,
    series_id uuid NOT NULL,
    next_task_id uuid,
    processed_at timestamptz NOT NULL DEFAULT now()
);
