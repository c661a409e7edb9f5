-- after: 0011
CREATE OR REPLACE FUNCTION notify_budget_event() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM notification_emit(NEW.tenant_id, 'budget.' || NEW.kind, jsonb_build_object(
        'period', NEW.period, 'period_start', NEW.period_start, 'token_limit', NEW.token_limit,
        'used', NEW.used));
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS budget_events_notify ON budget_events;
CREATE TRIGGER budget_events_notify AFTER INSERT ON budget_events
    FOR EACH ROW EXECUTE FUNCTION notify_budget_event();
