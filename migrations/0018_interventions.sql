-- Interventions: a commitment found in a commit message ("I'll fix the flaky test by Friday") is watched
-- from the moment its analysis is stored; when its due day has ended in the owner's time zone with no
-- later commit of the same author closing it, the scheduler writes a message through the LLM gateway
-- and sends it to the owner, then to their manager after the tenant's delay. The schedule lives here,
-- not in a process: any worker claims due rows (FOR UPDATE SKIP LOCKED, with a lease) and each step is
-- a conditional update, so a restart or a second replica neither loses nor repeats one.

-- The analyses keep the first line of their commit message, which is what closes a promise later.
ALTER TABLE analyses ADD COLUMN subject text CHECK (octet_length(subject) <= 1024);

CREATE TABLE intervention_settings (
    tenant_id                uuid PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    enabled                  boolean NOT NULL DEFAULT true,
    tone                     text NOT NULL DEFAULT 'friendly' CHECK (tone IN ('friendly', 'direct', 'formal')),
    escalation_delay_seconds integer NOT NULL DEFAULT 172800
                             CHECK (escalation_delay_seconds BETWEEN 60 AND 2592000),
    slack_webhook_sealed     bytea,
    updated_at               timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE intervention_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE intervention_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON intervention_settings
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE ON intervention_settings TO controlplane_app;

-- One row per dated commitment of a commitments analysis (unique per analysis and position, so it is
-- made once however often the analysis is written). `status`: `watching` until it is due, then `closed`
-- (a later commit closed it) or `open` (the intervention was made and sent to the owner), `escalated`
-- (sent to the manager too), `accepted` or `dismissed` (as the receiving side reported).
-- `next_check_at` is when the scheduler looks at it next: the end of the due day, the escalation time,
-- or, while a worker holds it, the end of that worker's lease.
CREATE TABLE interventions (
    tenant_id         uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    intervention_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    analysis_id       uuid NOT NULL,
    commitment_index  integer NOT NULL,
    repository        text NOT NULL,
    sha               text NOT NULL,
    author_email      text,
    committed_at      timestamptz,
    commitment        text NOT NULL,
    due_date          date NOT NULL,
    due_at            timestamptz NOT NULL,
    status            text NOT NULL DEFAULT 'watching'
                      CHECK (status IN ('watching', 'closed', 'open', 'escalated', 'accepted', 'dismissed')),
    next_check_at     timestamptz NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text,
    closed_by_sha     text,
    owner_handle      text,
    manager_email     text,
    tone              text,
    message           text,
    escalation_message text,
    provider          text,
    model             text,
    total_tokens      bigint NOT NULL DEFAULT 0,
    watched_at        timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz,
    escalate_at       timestamptz,
    escalated_at      timestamptz,
    outcome_at        timestamptz,
    outcome_by        text,
    PRIMARY KEY (tenant_id, intervention_id),
    UNIQUE (tenant_id, analysis_id, commitment_index)
);
-- The scheduler's work, across tenants.
CREATE INDEX interventions_due_idx ON interventions (next_check_at) WHERE status IN ('watching', 'open');
-- The API's list (interventions made, newest first) and the weekly totals.
CREATE INDEX interventions_created_idx ON interventions (tenant_id, created_at DESC, intervention_id DESC)
    WHERE created_at IS NOT NULL;
ALTER TABLE interventions ENABLE ROW LEVEL SECURITY;
ALTER TABLE interventions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON interventions
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
-- The scheduler claims due rows of every tenant in a maintenance transaction (it takes a lease and
-- nothing else); all it does with a claimed row happens in that row's tenant transaction. The gauges
-- read the answered ones there too, for each tenant's acceptance rate.
CREATE POLICY maintenance_read ON interventions FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on');
CREATE POLICY maintenance_claim ON interventions FOR UPDATE
    USING (current_setting('app.maintenance', true) = 'on' AND status IN ('watching', 'open'))
    WITH CHECK (current_setting('app.maintenance', true) = 'on' AND status IN ('watching', 'open'));
GRANT SELECT, INSERT ON interventions TO controlplane_app;
GRANT UPDATE (status, next_check_at, attempts, last_error, closed_by_sha, owner_handle, manager_email, tone, message,
              escalation_message, provider, model, total_tokens, created_at, escalate_at, escalated_at, outcome_at,
              outcome_by)
    ON interventions TO controlplane_app;

-- Where an intervention also goes: a Slack-compatible incoming webhook. Its events ride the same durable
-- queue as the signed ones, to the channel's own URL.
ALTER TABLE notification_events ADD COLUMN channel text NOT NULL DEFAULT 'url' CHECK (channel IN ('url', 'slack'));
