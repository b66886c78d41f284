-- Wake-ups only for rows that changed. A statement trigger fires even when its
-- statement touched no row, so a worker's own empty claim woke it again: a busy
-- loop on an idle system. Row triggers with conditions fire for real changes
-- only; PostgreSQL folds the identical notifications of one transaction into one.
DROP TRIGGER reminders_notify ON reminders;
CREATE TRIGGER reminders_notify AFTER INSERT OR UPDATE OF fire_at ON reminders
    FOR EACH ROW WHEN (NEW.state = 'scheduled') EXECUTE FUNCTION reminders_notify();

-- A delivery becomes due for someone else to see: written, rescheduled after an
-- attempt, or redelivered; not when a worker leases it (that worker is busy with it).
DROP TRIGGER deliveries_notify ON webhook_deliveries;
CREATE TRIGGER deliveries_notify AFTER INSERT OR UPDATE OF next_attempt_at ON webhook_deliveries
    FOR EACH ROW WHEN (NEW.state = 'pending' AND NEW.lease_expires_at IS NULL)
    EXECUTE FUNCTION deliveries_notify();

DROP TRIGGER endpoints_notify ON webhook_endpoints;
CREATE TRIGGER endpoints_notify AFTER UPDATE OF enabled ON webhook_endpoints
    FOR EACH ROW WHEN (NEW.enabled AND NOT OLD.enabled) EXECUTE FUNCTION deliveries_notify();
