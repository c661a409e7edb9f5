-- after: 0009
-- Notes that these jobs (of any tenants, each at its attempt) are on their tenant's stream, and moves
-- their deliveries from 'accepted' to 'enqueued'. Each tenant is set in turn so RLS decides every update.
-- A batch holds up to a few thousand jobs a second. Nested loops are off: with statistics that have not
-- seen the queue grow (they say no job waits), Postgres joined the waiting jobs to the batch in a nested
-- loop, comparing every job with every batch entry (2.9 million comparisons, 0.9 s, for 1,700 jobs in
-- bench/webhook-ingest.sh); a hash join does it in one pass (with the waiting jobs: few while Redis takes
-- them). The deliveries are then found by their key.
CREATE OR REPLACE FUNCTION jobs_mark_enqueued(p_tenants uuid[], p_jobs uuid[], p_attempts integer[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public SET enable_nestloop = off AS $$
DECLARE
    v_tenant     uuid;
    v_jobs       uuid[];
    v_attempts   integer[];
    v_deliveries uuid[];
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    -- The batch grouped by tenant once: each tenant's update reads its own jobs of the batch.
    FOR v_tenant, v_jobs, v_attempts IN
        SELECT m.tenant_id, array_agg(m.job_id), array_agg(m.attempts)
        FROM unnest(p_tenants, p_jobs, p_attempts) AS m (tenant_id, job_id, attempts) GROUP BY m.tenant_id
    LOOP
        PERFORM set_config('app.tenant_id', v_tenant::text, true);
        WITH marked AS (
            UPDATE jobs j SET enqueued_at = now()
            FROM unnest(v_jobs, v_attempts) AS m (job_id, attempts)
            WHERE j.tenant_id = v_tenant AND j.job_id = m.job_id
              AND j.enqueued_at IS NULL AND j.status = 'queued' AND j.attempts = m.attempts
            RETURNING j.delivery_id
        )
        SELECT array_agg(DISTINCT delivery_id) INTO v_deliveries FROM marked;
        -- The tenant as a subquery: planned for an average tenant, not for what the last sample saw.
        UPDATE webhook_deliveries d SET status = 'enqueued', updated_at = now()
        WHERE d.tenant_id = (SELECT app_tenant_id()) AND d.delivery_id = ANY(v_deliveries)
          AND d.status = 'accepted';
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END;
$$;
