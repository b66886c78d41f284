-- Entries waiting for their place in the log: the consumers write one row per
-- event (inbox + unique event id: exactly once), the sequencer moves them into
-- `entries` in batches. A queue, not the log: rows leave it when appended.
CREATE TABLE pending_entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    type text NOT NULL,
    task_id uuid NOT NULL,
    owner_id text NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL,
    changes jsonb NOT NULL             -- [{"field", "before", "after"}]
);

-- Wake the sequencers when entries wait. A row trigger, so an INSERT ... ON
-- CONFLICT DO NOTHING that inserted nothing wakes no one; PostgreSQL folds the
-- identical notifications of one transaction into one, delivered on commit.
CREATE FUNCTION pending_entries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_pending_entries', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER pending_entries_notify AFTER INSERT ON pending_entries
    FOR EACH ROW EXECUTE FUNCTION pending_entries_notify();

-- The log: leaf `leaf_index` of the Merkle tree is the canonical encoding of
-- its row (todo_transparency.entries). Appended by one sequencer at a time, in
-- commit order, never changed.
CREATE TABLE entries (
    leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
    event_id text NOT NULL UNIQUE,
    type text NOT NULL,
    task_id uuid NOT NULL,
    owner_id text NOT NULL,
    owner_sequence bigint NOT NULL CHECK (owner_sequence >= 1),
    actor text NOT NULL,
    at timestamptz NOT NULL,
    changes jsonb NOT NULL,
    leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32),
    appended_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_id, owner_sequence)
);
CREATE INDEX entries_by_task ON entries (owner_id, task_id, owner_sequence);

-- Perfect subtrees of the tree (level >= 1; level 0 is entries.leaf_hash):
-- node (level, index) covers leaves [index * 2^level, (index + 1) * 2^level).
CREATE TABLE tree_nodes (
    level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
    index bigint NOT NULL CHECK (index >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, index)
);

-- Signed checkpoints (todo_transparency.checkpoints), also published on `audit-checkpoints`.
CREATE TABLE checkpoints (
    tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
    origin text NOT NULL,
    root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
    signed_at timestamptz NOT NULL,
    signature bytea NOT NULL,
    key_id text NOT NULL
);

-- Append-only, enforced by the database: UPDATE, DELETE and TRUNCATE on the
-- log raise, whoever issues them (a superuser can still disable the triggers,
-- and the signed checkpoints are what catches that). Privileges are revoked
-- too, for roles that are not superusers.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on %.% is refused',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER tree_nodes_append_only BEFORE UPDATE OR DELETE ON tree_nodes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER tree_nodes_no_truncate BEFORE TRUNCATE ON tree_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON entries, tree_nodes, checkpoints FROM PUBLIC;
DO $$
BEGIN
    -- The owner keeps INSERT and SELECT; it loses UPDATE, DELETE and TRUNCATE (a
    -- superuser bypasses privileges, so for it the triggers are the guard).
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON entries, tree_nodes, checkpoints FROM %I',
                   current_user);
END;
$$;
