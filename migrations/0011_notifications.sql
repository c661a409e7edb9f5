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
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

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
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
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
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON notification_settings TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON notification_events TO controlplane_app;
GRANT SELECT, INSERT ON notification_attempts TO controlplane_app;
