-- Outbound notifications: per tenant one URL that receives signed events (Standard Webhooks). Events
-- are written by triggers in the same transaction as what they report (an analysis stored, a job
-- dead-lettered, a budget event recorded), so none is lost or sent for something that rolled back; a
-- sender delivers them with retries and logs every attempt.

CREATE TABLE notification_settings (
    tenant_id     uuid PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    url           text NOT NULL CHECK (octet_length(url) <= 2048),
    events        text[] NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    secret_sealed bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE notification_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_settings
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

CREATE TABLE notification_events (
    tenant_id       uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    event_id        uuid NOT NULL,
    type            text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX notification_events_created_idx ON notification_events (tenant_id, created_at DESC, event_id DESC);
-- The sender's work, across tenants.
CREATE INDEX notification_events_due_idx ON notification_events (next_attempt_at) WHERE status = 'pending';
ALTER TABLE notification_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_events
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
-- The sender claims due events of every tenant in a maintenance transaction, and nothing else.
CREATE POLICY maintenance_claim_read ON notification_events FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on' AND status = 'pending');
CREATE POLICY maintenance_claim ON notification_events FOR UPDATE
    USING (current_setting('app.maintenance', true) = 'on' AND status = 'pending')
    WITH CHECK (current_setting('app.maintenance', true) = 'on' AND status = 'pending');

CREATE TABLE notification_attempts (
    tenant_id    uuid NOT NULL,
    event_id     uuid NOT NULL,
    attempt      integer NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    url          text NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  integer NOT NULL,
    PRIMARY KEY (tenant_id, event_id, attempt),
    FOREIGN KEY (tenant_id, event_id) REFERENCES notification_events (tenant_id, event_id) ON DELETE CASCADE
);
CREATE INDEX notification_attempts_recent_idx ON notification_attempts (tenant_id, attempted_at DESC);
ALTER TABLE notification_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_attempts
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Queues an event for the tenant whose transaction this is, when it has an active URL that takes the type.
CREATE FUNCTION notification_emit(p_tenant uuid, p_type text, p_data jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO notification_events (tenant_id, event_id, type, payload)
    SELECT p_tenant, gen_random_uuid(), p_type,
           jsonb_build_object('type', p_type, 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                              'data', p_data)
    FROM notification_settings s
    WHERE s.tenant_id = p_tenant AND s.active AND p_type = ANY(s.events);
END;
$$;

CREATE FUNCTION notify_analysis_completed() RETURNS trigger
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
CREATE TRIGGER analyses_notify AFTER INSERT ON analyses
    FOR EACH ROW EXECUTE FUNCTION notify_analysis_completed();

CREATE FUNCTION notify_job_dead_lettered() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM notification_emit(NEW.tenant_id, 'job.dead_lettered', jsonb_build_object(
        'job_id', NEW.job_id, 'delivery_id', NEW.delivery_id, 'pipeline', NEW.pipeline,
        'repository', NEW.repository, 'attempts', NEW.attempts, 'last_error', NEW.last_error));
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_notify_dead AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (NEW.status = 'dead' AND OLD.status IS DISTINCT FROM 'dead')
    EXECUTE FUNCTION notify_job_dead_lettered();

CREATE FUNCTION notify_budget_event() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM notification_emit(NEW.tenant_id, 'budget.' || NEW.kind, jsonb_build_object(
        'period', NEW.period, 'period_start', NEW.period_start, 'token_limit', NEW.token_limit,
        'used', NEW.used));
    RETURN NULL;
END;
$$;
CREATE TRIGGER budget_events_notify AFTER INSERT ON budget_events
    FOR EACH ROW EXECUTE FUNCTION notify_budget_event();

GRANT SELECT, INSERT, UPDATE, DELETE ON notification_settings TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON notification_events TO controlplane_app;
GRANT SELECT, INSERT ON notification_attempts TO controlplane_app;
