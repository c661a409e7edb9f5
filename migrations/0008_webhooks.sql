-- Webhook endpoints, the deliveries they receive and the jobs made from them.
--
-- Postgres is the record: a delivery is committed (with its jobs) before GitHub gets its 2xx, and Redis
-- only carries job ids, so a lost Redis is rebuilt from here. Ingest knows the endpoint id and not the
-- tenant, so `webhook_routes` maps one to the other (like `login_directory`, readable by anyone, holding
-- no secret); everything else is a tenant table under forced RLS.

CREATE TABLE webhook_endpoints (
    tenant_id                  uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    endpoint_id                uuid NOT NULL,
    provider                   text NOT NULL DEFAULT 'github' CHECK (provider = 'github'),
    pipelines                  text[] NOT NULL
        CHECK (pipelines <@ ARRAY['commitments', 'security_review', 'change_summary']),
    repositories               text[] NOT NULL DEFAULT '{}',
    active                     boolean NOT NULL DEFAULT true,
    secret_sealed              bytea NOT NULL,
    previous_secret_sealed     bytea,
    previous_secret_expires_at timestamptz,
    secret_rotated_at          timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, endpoint_id)
);
CREATE INDEX webhook_endpoints_created_idx ON webhook_endpoints (tenant_id, created_at DESC, endpoint_id DESC);
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

CREATE TABLE webhook_routes (
    endpoint_id uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, endpoint_id) ON DELETE CASCADE
);
ALTER TABLE webhook_routes ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_routes FORCE ROW LEVEL SECURITY;
CREATE POLICY route_read ON webhook_routes FOR SELECT USING (true);
CREATE POLICY route_insert ON webhook_routes FOR INSERT
    WITH CHECK (tenant_id = app_tenant_id());

CREATE TABLE webhook_deliveries (
    tenant_id     uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    delivery_id   uuid NOT NULL,
    endpoint_id   uuid NOT NULL,
    github_delivery text NOT NULL,
    event         text NOT NULL,
    action        text,
    repository    text,
    ref           text,
    status        text NOT NULL CHECK (status IN ('accepted', 'enqueued', 'processed', 'ignored', 'failed')),
    reason        text,
    content_type  text NOT NULL,
    body          bytea NOT NULL,
    job_count     integer NOT NULL DEFAULT 0,
    replays       integer NOT NULL DEFAULT 0,
    received_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, delivery_id)
);
CREATE UNIQUE INDEX webhook_deliveries_github_key ON webhook_deliveries (tenant_id, endpoint_id, github_delivery);
CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (tenant_id, received_at DESC, delivery_id DESC);
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_deliveries
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

CREATE TABLE jobs (
    tenant_id    uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    job_id       uuid NOT NULL,
    delivery_id  uuid NOT NULL,
    pipeline     text NOT NULL CHECK (pipeline IN ('commitments', 'security_review', 'change_summary')),
    repository   text,
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
    last_error   text,
    available_at timestamptz NOT NULL DEFAULT now(),
    lease_until  timestamptz,
    enqueued_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, job_id),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, delivery_id) ON DELETE CASCADE
);
CREATE INDEX jobs_created_idx ON jobs (tenant_id, created_at DESC, job_id DESC);
CREATE INDEX jobs_delivery_idx ON jobs (tenant_id, delivery_id);
-- The relay's work: jobs committed but not known to be on Redis. Cross-tenant by nature (it runs for
-- the platform), so it does not lead with tenant_id; with Citus it is one such index per shard.
CREATE INDEX jobs_unenqueued_idx ON jobs (created_at) WHERE status = 'queued' AND enqueued_at IS NULL;
CREATE INDEX jobs_open_idx ON jobs (created_at) WHERE status IN ('queued', 'running');
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON jobs
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
-- The relay reads, across tenants, which open jobs exist (ids only are used), nothing else.
CREATE POLICY maintenance_read ON jobs FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on' AND status IN ('queued', 'running'));

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO controlplane_app;
GRANT SELECT, INSERT ON webhook_routes TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON jobs TO controlplane_app;
