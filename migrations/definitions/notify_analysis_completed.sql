-- after: 0011
CREATE OR REPLACE FUNCTION notify_analysis_completed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM notification_emit(NEW.tenant_id, 'analysis.completed', jsonb_build_object(
        'analysis_id', NEW.analysis_id, 'job_id', NEW.job_id, 'delivery_id', NEW.delivery_id,
        'pipeline', NEW.pipeline, 'repository', NEW.repository, 'sha', NEW.sha,
        'author_email', NEW.author_email, 'author_handle', NEW.author_handle, 'reused', NEW.reused,
        'output', NEW.output));
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS analyses_notify ON analyses;
CREATE TRIGGER analyses_notify AFTER INSERT ON analyses
    FOR EACH ROW EXECUTE FUNCTION notify_analysis_completed();
