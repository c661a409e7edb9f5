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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

CREATE TABLE webhook_routes (
    endpoint_id uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, endpoint_id) ON DELETE CASCADE
);
ALTER TABLE webhook_routes ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_routes FORCE ROW LEVEL SECURITY;
CREATE POLICY route_read ON webhook_routes FOR SELECT USING (true);
CREATE POLICY route_insert ON webhook_routes FOR INSERT
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
-- The relay reads, across tenants, which open jobs exist (ids only are used), nothing else.
CREATE POLICY maintenance_read ON jobs FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on' AND status IN ('queued', 'running'));

-- The endpoint behind an ingest URL with what verifying and routing a delivery needs, in one round trip.
-- No row: no such endpoint (or a deleted one).
CREATE FUNCTION webhook_route(p_endpoint uuid)
RETURNS TABLE (tenant_id uuid, tenant_status text, active boolean, secret_sealed bytea,
               previous_secret_sealed bytea, previous_secret_expires_at timestamptz, pipelines text[],
               repositories text[])
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_tenant uuid;
BEGIN
    SELECT r.tenant_id INTO v_tenant FROM webhook_routes r WHERE r.endpoint_id = p_endpoint;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', v_tenant::text, true);
    RETURN QUERY
        SELECT e.tenant_id, t.status, e.active, e.secret_sealed, e.previous_secret_sealed,
               e.previous_secret_expires_at, e.pipelines, e.repositories
        FROM webhook_endpoints e JOIN tenants t ON t.tenant_id = e.tenant_id
        WHERE e.tenant_id = v_tenant AND e.endpoint_id = p_endpoint;
END;
$$;

-- Records a verified delivery and its jobs in one durable statement. The same GitHub delivery id on the
-- same endpoint records nothing new: the first delivery's id, status and jobs are answered instead
-- (`duplicate`), however many arrive at once (the unique index makes the later ones wait and skip).
CREATE FUNCTION webhook_accept(
    p_tenant uuid, p_endpoint uuid, p_delivery uuid, p_github_delivery text, p_event text, p_action text,
    p_repository text, p_ref text, p_status text, p_reason text, p_content_type text, p_body bytea,
    p_pipelines text[], p_job_ids uuid[], p_max_attempts integer)
RETURNS TABLE (delivery_id uuid, status text, duplicate boolean, job_ids uuid[])
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    v_inserted uuid;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    INSERT INTO webhook_deliveries (tenant_id, delivery_id, endpoint_id, github_delivery, event, action,
                                    repository, ref, status, reason, content_type, body, job_count)
    VALUES (p_tenant, p_delivery, p_endpoint, p_github_delivery, p_event, p_action, p_repository, p_ref,
            p_status, p_reason, p_content_type, p_body, cardinality(p_job_ids))
    ON CONFLICT (tenant_id, endpoint_id, github_delivery) DO NOTHING
    RETURNING webhook_deliveries.delivery_id INTO v_inserted;
    IF v_inserted IS NULL THEN
        RETURN QUERY
            SELECT d.delivery_id, d.status, true,
                   COALESCE((SELECT array_agg(j.job_id ORDER BY j.pipeline) FROM jobs j
                             WHERE j.tenant_id = p_tenant AND j.delivery_id = d.delivery_id), '{}')
            FROM webhook_deliveries d
            WHERE d.tenant_id = p_tenant AND d.endpoint_id = p_endpoint AND d.github_delivery = p_github_delivery;
        RETURN;
    END IF;
    INSERT INTO jobs (tenant_id, job_id, delivery_id, pipeline, repository, max_attempts)
    SELECT p_tenant, j.job_id, p_delivery, j.pipeline, p_repository, p_max_attempts
    FROM unnest(p_job_ids, p_pipelines) AS j (job_id, pipeline);
    RETURN QUERY SELECT p_delivery, p_status, false, p_job_ids;
END;
$$;

-- Notes which jobs reached Redis (and their deliveries as `enqueued`), for many tenants in one call;
-- what is never noted is found and sent again by the relay. Not durable on purpose: a lost note only
-- costs a job id sent twice, which the worker's claim in Postgres absorbs.
CREATE FUNCTION jobs_mark_enqueued(p_tenants uuid[], p_jobs uuid[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_tenant uuid;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR v_tenant IN SELECT DISTINCT t FROM unnest(p_tenants) AS t LOOP
        PERFORM set_config('app.tenant_id', v_tenant::text, true);
        WITH marked AS (
            UPDATE jobs j SET enqueued_at = now()
            FROM unnest(p_tenants, p_jobs) AS m (tenant_id, job_id)
            WHERE m.tenant_id = v_tenant AND j.tenant_id = v_tenant AND j.job_id = m.job_id
              AND j.enqueued_at IS NULL
            RETURNING j.delivery_id
        )
        UPDATE webhook_deliveries d SET status = 'enqueued', updated_at = now()
        WHERE d.tenant_id = v_tenant AND d.status = 'accepted'
          AND d.delivery_id IN (SELECT delivery_id FROM marked);
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END;
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO controlplane_app;
GRANT SELECT, INSERT ON webhook_routes TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON jobs TO controlplane_app;
