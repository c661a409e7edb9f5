-- after: 0009
-- Extends the lease of a running attempt (a long job's heartbeat); false when the lease was lost.
CREATE OR REPLACE FUNCTION job_extend_lease(p_tenant uuid, p_job uuid, p_token uuid, p_lease_seconds integer)
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
