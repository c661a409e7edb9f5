-- after: 0009
CREATE OR REPLACE FUNCTION jobs_mark_enqueued(p_tenants uuid[], p_jobs uuid[], p_attempts integer[])
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
