-- Per-user leaky buckets of query cost, shared by every gateway replica.
-- UNLOGGED: a crash empties them (everyone starts with a full budget), and
-- nothing here is worth a WAL write per request.
CREATE UNLOGGED TABLE rate_buckets (
    user_id text PRIMARY KEY,
    level double precision NOT NULL,  -- points used, draining at the restore rate
    updated_at timestamptz NOT NULL
);
