-- after: 0009
-- Puts jobs whose worker died (lease run out) back on the queue through the relay, or to the dead
-- letters when every attempt is used. For many tenants in one call, like `jobs_mark_enqueued`.
CREATE OR REPLACE FUNCTION jobs_release_expired(p_tenants uuid[], p_jobs uuid[])
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
