-- A delivery being sent is leased: the worker that claimed it pushed
-- next_attempt_at past the attempt's timeout (so a crashed worker's delivery
-- comes due again) and set lease_expires_at, which recording the result clears
-- (so does a redelivery once the lease ran out: a late result then only logs
-- its attempt). While the lease runs, RedeliverWebhook leaves the delivery alone.
ALTER TABLE webhook_deliveries ADD COLUMN lease_expires_at timestamptz;

-- Attempts made before the current round of the retry schedule: RedeliverWebhook
-- starts a new round (attempt numbers go on, the schedule starts over).
ALTER TABLE webhook_deliveries ADD COLUMN retry_base integer NOT NULL DEFAULT 0;

-- Wake the delivery workers when an endpoint is enabled again: its waiting
-- deliveries may be due.
CREATE TRIGGER endpoints_notify AFTER UPDATE OF enabled ON webhook_endpoints
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();
