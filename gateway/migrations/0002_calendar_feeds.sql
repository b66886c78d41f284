-- Calendar feeds (gateway.calendar_feeds): each row is one secret feed URL a user made. The URL's
-- token is never stored, only its SHA-256: a copy of this table serves no feed. Revoking a feed
-- deletes its row, so a revoked token and one never issued look the same.
CREATE TABLE calendar_feeds (
    id uuid PRIMARY KEY,
    user_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('VTODO', 'VEVENT')),
    name text NOT NULL DEFAULT '',
    token_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- A user's feeds, oldest first (the list, and the count checked against the per-user limit).
CREATE INDEX calendar_feeds_by_user ON calendar_feeds (user_id, created_at, id);
