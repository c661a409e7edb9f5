-- after: 0009
-- Jobs noted as on Redis longer than `p_age_seconds` ago and still queued, for tenants whose stream the
-- relay found empty: their entries were lost (a Redis failover that kept the epoch but not the latest
-- writes, say), so they are noted as not on Redis, and the relay sends them again.
CREATE OR REPLACE FUNCTION jobs_forget_enqueued(p_tenants uuid[], p_age_seconds double precision)
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
