-- The runtime: jobs are claimed with a lease, finished, retried with backoff or dead-lettered; analyses
-- are stored once per (pipeline, repository, commit); commit messages seen before reuse their result;
-- identities map commit authors to people.

ALTER TABLE jobs ADD COLUMN lease_token uuid;

CREATE TABLE analyses (
    tenant_id         uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    analysis_id       uuid NOT NULL,
    job_id            uuid NOT NULL,
    delivery_id       uuid NOT NULL,
    pipeline          text NOT NULL CHECK (pipeline IN ('commitments', 'security_review', 'change_summary')),
    repository        text NOT NULL,
    sha               text NOT NULL,
    author_name       text,
    author_email      text,
    author_handle     text,
    committed_at      timestamptz,
    output            jsonb NOT NULL,
    provider          text NOT NULL,
    model             text NOT NULL,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    total_tokens      bigint NOT NULL DEFAULT 0,
    reused            boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, analysis_id)
);
-- One analysis per pipeline and commit: a job run twice, a forced push or a replay stores nothing new.
CREATE UNIQUE INDEX analyses_commit_key ON analyses (tenant_id, pipeline, lower(repository), sha);
CREATE INDEX analyses_created_idx ON analyses (tenant_id, created_at DESC, analysis_id DESC);
ALTER TABLE analyses ENABLE ROW LEVEL SECURITY;
ALTER TABLE analyses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analyses
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Results by normalised commit message, so a message seen before costs nothing the next time.
CREATE TABLE message_results (
    tenant_id    uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    pipeline     text NOT NULL,
    message_hash bytea NOT NULL,
    simhash      bigint NOT NULL,
    output       jsonb NOT NULL,
    provider     text NOT NULL,
    model        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, pipeline, message_hash)
);
CREATE INDEX message_results_recent_idx ON message_results (tenant_id, pipeline, created_at DESC);
ALTER TABLE message_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_results FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_results
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

CREATE TABLE identities (
    tenant_id     uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    email         text NOT NULL,
    git_emails    text[] NOT NULL DEFAULT '{}',
    chat_handle   text,
    manager_email text,
    timezone      text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, email)
);
CREATE INDEX identities_git_emails_idx ON identities USING gin (git_emails);
ALTER TABLE identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE identities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identities
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Claims a job for one attempt: a queued job that is due, or a running one whose lease ran out (its
-- worker died). A job that already used every attempt goes to the dead letters instead. No row: nothing
-- to run (finished, running elsewhere, not due, or just dead-lettered). Durable, so a claim is never
-- forgotten while its stream entry is acknowledged.
CREATE FUNCTION job_claim(p_tenant uuid, p_job uuid, p_token uuid, p_lease_seconds integer)
RETURNS TABLE (pipeline text, delivery_id uuid, repository text, attempts integer, max_attempts integer,
               body bytea, created_at timestamptz)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    v_job jobs%ROWTYPE;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    SELECT * INTO v_job FROM jobs j WHERE j.tenant_id = p_tenant AND j.job_id = p_job FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_job.status = 'queued' AND v_job.available_at > now() THEN
        -- Sent before it was due: noted as not on Redis, so the relay sends it again once it is.
        UPDATE jobs SET enqueued_at = NULL WHERE tenant_id = p_tenant AND job_id = p_job;
        RETURN;
    END IF;
    IF NOT (v_job.status = 'queued' OR (v_job.status = 'running' AND v_job.lease_until < now())) THEN
        RETURN;
    END IF;
    IF v_job.attempts >= v_job.max_attempts THEN
        UPDATE jobs SET status = 'dead', finished_at = now(), updated_at = now(), lease_until = NULL,
                        lease_token = NULL,
                        last_error = COALESCE(last_error, 'the worker running it stopped') || ' (after '
                                     || v_job.attempts || ' attempts)'
        WHERE tenant_id = p_tenant AND job_id = p_job;
        PERFORM job_settle_delivery(p_tenant, v_job.delivery_id);
        RETURN;
    END IF;
    UPDATE jobs SET status = 'running', attempts = v_job.attempts + 1, lease_token = p_token,
                    lease_until = now() + make_interval(secs => p_lease_seconds),
                    started_at = COALESCE(started_at, now()), updated_at = now()
    WHERE tenant_id = p_tenant AND job_id = p_job;
    RETURN QUERY
        SELECT v_job.pipeline, v_job.delivery_id, v_job.repository, v_job.attempts + 1, v_job.max_attempts, d.body,
               v_job.created_at
        FROM webhook_deliveries d WHERE d.tenant_id = p_tenant AND d.delivery_id = v_job.delivery_id;
END;
$$;

-- A delivery is `processed` once every job made from it finished, `failed` if one of them failed or died.
CREATE FUNCTION job_settle_delivery(p_tenant uuid, p_delivery uuid)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, public AS $$
    UPDATE webhook_deliveries d
    SET status = CASE WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = p_tenant AND j.delivery_id = p_delivery
                                   AND j.status IN ('failed', 'dead')) THEN 'failed' ELSE 'processed' END,
        updated_at = now()
    WHERE d.tenant_id = p_tenant AND d.delivery_id = p_delivery AND d.status IN ('accepted', 'enqueued', 'processed', 'failed')
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = p_tenant AND j.delivery_id = p_delivery
                      AND j.status IN ('queued', 'running'));
$$;

-- Ends an attempt held under `p_token` (a worker whose lease was taken over changes nothing):
-- `succeeded`, `failed` (not worth retrying), or `retry` (again after `p_backoff_seconds`, unless every
-- attempt is used: then `dead`). Answers the job's status afterwards (NULL: the lease was lost).
CREATE FUNCTION job_finish(p_tenant uuid, p_job uuid, p_token uuid, p_outcome text, p_error text,
                           p_backoff_seconds double precision)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_status   text;
    v_delivery uuid;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    UPDATE jobs SET
        status = CASE
            WHEN p_outcome = 'succeeded' THEN 'succeeded'
            WHEN p_outcome = 'failed' THEN 'failed'
            WHEN attempts >= max_attempts THEN 'dead'
            ELSE 'queued' END,
        last_error = CASE WHEN p_outcome = 'succeeded' THEN last_error ELSE left(p_error, 2000) END,
        available_at = CASE WHEN p_outcome = 'retry'
            THEN now() + make_interval(secs => p_backoff_seconds) ELSE available_at END,
        enqueued_at = CASE WHEN p_outcome = 'retry' THEN NULL ELSE enqueued_at END,
        finished_at = CASE WHEN p_outcome = 'retry' AND attempts < max_attempts THEN NULL ELSE now() END,
        lease_until = NULL, lease_token = NULL, updated_at = now()
    WHERE tenant_id = p_tenant AND job_id = p_job AND status = 'running' AND lease_token = p_token
    RETURNING status, delivery_id INTO v_status, v_delivery;
    IF v_status IS NOT NULL AND v_status <> 'queued' THEN
        PERFORM job_settle_delivery(p_tenant, v_delivery);
    END IF;
    RETURN v_status;
END;
$$;

-- Extends the lease of a running attempt (a long job's heartbeat); false when the lease was lost.
CREATE FUNCTION job_extend_lease(p_tenant uuid, p_job uuid, p_token uuid, p_lease_seconds integer)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE jobs SET lease_until = now() + make_interval(secs => p_lease_seconds)
    WHERE tenant_id = p_tenant AND job_id = p_job AND status = 'running' AND lease_token = p_token;
    RETURN FOUND;
END;
$$;

-- Puts jobs whose worker died (lease run out) back on the queue through the relay, or to the dead
-- letters when every attempt is used. For many tenants in one call, like `jobs_mark_enqueued`.
CREATE FUNCTION jobs_release_expired(p_tenants uuid[], p_jobs uuid[])
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_tenant   uuid;
    v_total    integer := 0;
    v_rows     integer;
    v_delivery uuid;
BEGIN
    FOR v_tenant IN SELECT DISTINCT t FROM unnest(p_tenants) AS t LOOP
        PERFORM set_config('app.tenant_id', v_tenant::text, true);
        UPDATE jobs j SET
            status = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END,
            last_error = 'the worker running it stopped (lease expired)',
            finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
            available_at = now(), enqueued_at = NULL, lease_until = NULL, lease_token = NULL, updated_at = now()
        FROM unnest(p_tenants, p_jobs) AS m (tenant_id, job_id)
        WHERE m.tenant_id = v_tenant AND j.tenant_id = v_tenant AND j.job_id = m.job_id
          AND j.status = 'running' AND j.lease_until < now();
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_total := v_total + v_rows;
        FOR v_delivery IN SELECT DISTINCT j.delivery_id FROM jobs j
                          JOIN unnest(p_tenants, p_jobs) AS m (tenant_id, job_id)
                            ON m.tenant_id = v_tenant AND j.job_id = m.job_id
                          WHERE j.tenant_id = v_tenant AND j.status = 'dead' LOOP
            PERFORM job_settle_delivery(v_tenant, v_delivery);
        END LOOP;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
    RETURN v_total;
END;
$$;

GRANT SELECT, INSERT, UPDATE ON analyses TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON message_results TO controlplane_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON identities TO controlplane_app;

-- `jobs_mark_enqueued` of 0008, noting a job only while it still has the attempts it had when it was
-- sent and is still queued: a note that arrives after the job was claimed and failed again (and so
-- needs sending again) would otherwise mark it as on Redis when it is not.
DROP FUNCTION jobs_mark_enqueued(uuid[], uuid[]);
CREATE FUNCTION jobs_mark_enqueued(p_tenants uuid[], p_jobs uuid[], p_attempts integer[])
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
            FROM unnest(p_tenants, p_jobs, p_attempts) AS m (tenant_id, job_id, attempts)
            WHERE m.tenant_id = v_tenant AND j.tenant_id = v_tenant AND j.job_id = m.job_id
              AND j.enqueued_at IS NULL AND j.status = 'queued' AND j.attempts = m.attempts
            RETURNING j.delivery_id
        )
        UPDATE webhook_deliveries d SET status = 'enqueued', updated_at = now()
        WHERE d.tenant_id = v_tenant AND d.status = 'accepted'
          AND d.delivery_id IN (SELECT delivery_id FROM marked);
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END;
$$;

-- Jobs noted as on Redis longer than `p_age_seconds` ago and still queued, for tenants whose stream the
-- relay found empty: their entries were lost (a Redis failover that kept the epoch but not the latest
-- writes, say), so they are noted as not on Redis, and the relay sends them again.
CREATE FUNCTION jobs_forget_enqueued(p_tenants uuid[], p_age_seconds double precision)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_tenant uuid;
    v_total  integer := 0;
    v_rows   integer;
BEGIN
    FOR v_tenant IN SELECT DISTINCT t FROM unnest(p_tenants) AS t LOOP
        PERFORM set_config('app.tenant_id', v_tenant::text, true);
        UPDATE jobs SET enqueued_at = NULL
        WHERE tenant_id = v_tenant AND status = 'queued'
          AND enqueued_at < now() - make_interval(secs => p_age_seconds);
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_total := v_total + v_rows;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
    RETURN v_total;
END;
$$;
