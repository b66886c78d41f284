-- What svc_notify knows of each task: the last change applied (by the owner's
-- change sequence, so an older event redelivered later never undoes a newer
-- one) and the task as it was then (serialized todo.tasks.v1.Task).
CREATE TABLE task_states (
    task_id uuid PRIMARY KEY,
    owner_id text NOT NULL,
    sequence bigint NOT NULL,
    open boolean NOT NULL,          -- OPEN and not deleted: its reminders are live
    snapshot bytea NOT NULL
);

-- The reminder schedule: one row per (task, reminder, fire time). A row is
-- scheduled until it fires (a notification is written), is missed (its time
-- passed beyond the grace window while nothing could fire it), or is deleted
-- because the task changed. Fired and missed rows stay: the same reminder at
-- the same time never fires twice.
CREATE TABLE reminders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id text NOT NULL,
    task_id uuid NOT NULL,
    reminder_id text NOT NULL,      -- Reminder.id ("before-30", "at-<unix>") or "snooze:<notification id>"
    fire_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'fired', 'missed')),
    settled_at timestamptz,
    notification_id uuid,
    UNIQUE (task_id, reminder_id, fire_at)
);
CREATE INDEX reminders_due ON reminders (fire_at) WHERE state = 'scheduled';
CREATE INDEX reminders_by_task ON reminders (task_id) WHERE state = 'scheduled';

-- Fired reminders as the user sees them.
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    owner_id text NOT NULL,
    task_id uuid NOT NULL,
    reminder_id text NOT NULL,
    title text NOT NULL,
    due_at timestamptz,
    scheduled_at timestamptz NOT NULL,
    fired_at timestamptz NOT NULL,
    read_at timestamptz
);
CREATE INDEX notifications_by_owner ON notifications (owner_id, fired_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (owner_id, fired_at DESC, id DESC)
    WHERE read_at IS NULL;

-- Wake the schedulers when a reminder is scheduled (a new one may come first).
CREATE FUNCTION reminders_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_reminders', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER reminders_notify AFTER INSERT OR UPDATE OF fire_at ON reminders
    FOR EACH STATEMENT EXECUTE FUNCTION reminders_notify();

-- Webhook endpoints and deliveries (Standard Webhooks). A delivery is one
-- event to one endpoint; it is claimed from this table (FOR UPDATE SKIP
-- LOCKED), so a restart loses nothing and replicas never send it twice at once.
CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    owner_id text NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,           -- whsec_<base64>
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_by_owner ON webhook_endpoints (owner_id, created_at, id);

CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    owner_id text NOT NULL,
    message_id text NOT NULL,       -- the webhook-id header, the same on every attempt
    event_id text NOT NULL,
    payload jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id uuid NOT NULL,
    attempt integer NOT NULL,
    status_code integer NOT NULL,   -- 0: no answer
    error text NOT NULL,
    attempted_at timestamptz NOT NULL,
    latency_ms integer NOT NULL,
    state text NOT NULL
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, attempted_at DESC, id DESC);

CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_deliveries', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER deliveries_notify AFTER INSERT OR UPDATE OF next_attempt_at ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();
