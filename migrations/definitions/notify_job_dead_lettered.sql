-- after: 0011
CREATE OR REPLACE FUNCTION notify_job_dead_lettered() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM notification_emit(NEW.tenant_id, 'job.dead_lettered', jsonb_build_object(
        'job_id', NEW.job_id, 'delivery_id', NEW.delivery_id, 'pipeline', NEW.pipeline,
        'repository', NEW.repository, 'attempts', NEW.attempts, 'last_error', NEW.last_error));
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS jobs_notify_dead ON jobs;
CREATE TRIGGER jobs_notify_dead AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (NEW.status = 'dead' AND OLD.status IS DISTINCT FROM 'dead')
    EXECUTE FUNCTION notify_job_dead_lettered();
