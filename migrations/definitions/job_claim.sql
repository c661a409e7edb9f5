-- after: 0009
-- Claims a job for one attempt: a queued job that is due, or a running one whose lease ran out (its
-- worker died). A job that already used every attempt goes to the dead letters instead. No row: nothing
-- to run (finished, running elsewhere, not due, or just dead-lettered). Durable, so a claim is never
-- forgotten while its stream entry is acknowledged.
CREATE OR REPLACE FUNCTION job_claim(p_tenant uuid, p_job uuid, p_token uuid, p_lease_seconds integer)
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
