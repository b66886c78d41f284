-- Tasks, the per-user change log and their indexes. Enum columns hold the
-- Protobuf enum numbers (status 1 OPEN / 2 COMPLETED, priority 1 NONE .. 5 URGENT).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE tasks (
    id uuid PRIMARY KEY,
    owner_id text NOT NULL,
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    status smallint NOT NULL CHECK (status IN (1, 2)),
    priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
    tags text[] NOT NULL DEFAULT '{}',
    due_at timestamptz,
    time_zone text NOT NULL,
    recurrence_rule text,
    recurrence_text text,
    recurrence_basis smallint,
    reminders jsonb NOT NULL DEFAULT '[]'::jsonb,
    series_id uuid,
    series_index integer,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    completed_at timestamptz,
    request_id text,
    -- Full-text document (words and prefixes) and the same text for trigram
    -- (typo-tolerant) matching.
    search_document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', description), 'B')
    ) STORED,
    search_text text GENERATED ALWAYS AS (lower(title || ' ' || description)) STORED,
    CONSTRAINT tasks_request_id UNIQUE (owner_id, request_id),
    CONSTRAINT tasks_series_occurrence UNIQUE (owner_id, series_id, series_index)
);

-- One index per ordering key; the owner is always the leading column and the
-- id the final tie-breaker, matching the keyset predicates in store.py. Due
-- times sort NULLs last in both directions via the coalesced expressions.
CREATE INDEX tasks_by_created ON tasks (owner_id, created_at, id);
CREATE INDEX tasks_by_updated ON tasks (owner_id, updated_at, id);
CREATE INDEX tasks_by_due_asc ON tasks (owner_id, (coalesce(due_at, 'infinity'::timestamptz)), id);
CREATE INDEX tasks_by_due_desc ON tasks (owner_id, (coalesce(due_at, '-infinity'::timestamptz)), id);
CREATE INDEX tasks_by_priority ON tasks (owner_id, priority, id);
CREATE INDEX tasks_by_title ON tasks (owner_id, lower(title), id);
-- Filters that are selective on their own.
CREATE INDEX tasks_open_due ON tasks (owner_id, due_at) WHERE status = 1;
CREATE INDEX tasks_tags ON tasks USING gin (tags);
CREATE INDEX tasks_search_document ON tasks USING gin (search_document);
CREATE INDEX tasks_search_trigram ON tasks USING gin (search_text gin_trgm_ops);

-- Per-user change log: a gap-free sequence per owner and the task snapshot
-- (serialized todo.tasks.v1.Task) after each change.
CREATE TABLE user_sequences (
    owner_id text PRIMARY KEY,
    last_sequence bigint NOT NULL
);

CREATE TABLE changes (
    owner_id text NOT NULL,
    sequence bigint NOT NULL,
    kind smallint NOT NULL,
    task_id uuid NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    snapshot bytea NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (owner_id, sequence)
);
