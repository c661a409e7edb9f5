-- after: 0009
-- Ends an attempt held under `p_token` (a worker whose lease was taken over changes nothing):
-- `succeeded`, `failed` (not worth retrying), or `retry` (again after `p_backoff_seconds`, unless every
-- attempt is used: then `dead`). Answers the job's status afterwards (NULL: the lease was lost).
CREATE OR REPLACE FUNCTION job_finish(p_tenant uuid, p_job uuid, p_token uuid, p_outcome text, p_error text,
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
