-- after: 0022
CREATE OR REPLACE FUNCTION retention_prune(p_tenant uuid, p_detail_before timestamptz, p_audit_before timestamptz,
                                p_batch integer)
RETURNS TABLE (jobs integer, deliveries integer, usage_records integer, notifications integer,
               audit_events integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_jobs integer;
    v_deliveries integer;
    v_usage integer;
    v_notifications integer;
    v_audit integer;
BEGIN
    IF p_batch IS NULL OR p_batch < 1 OR p_batch > 10000 THEN
        RAISE EXCEPTION 'batch must be between 1 and 10000' USING ERRCODE = '22023';
    END IF;
    IF p_tenant IS NULL OR p_detail_before IS NULL OR p_audit_before IS NULL THEN
        RAISE EXCEPTION 'tenant and cutoffs are required' USING ERRCODE = '22023';
    END IF;
    -- The application role may prune only what is at least a day old (the shortest retention a plan may
    -- have), whatever cutoffs it names; the owner (an operator's `controlplane retention prune
    -- --as-of`) may name any moment. In a SECURITY DEFINER function current_user is the owner.
    IF session_user <> current_user THEN
        p_detail_before := LEAST(p_detail_before, now() - interval '1 day');
        p_audit_before := LEAST(p_audit_before, now() - interval '1 day');
    END IF;
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    PERFORM set_config('app.operator', '', true);
    PERFORM set_config('app.maintenance', '', true);
    IF NOT pg_try_advisory_xact_lock(hashtextextended('retention:' || p_tenant::text, 0)) THEN
        RETURN;
    END IF;

    WITH doomed AS (
        SELECT j.job_id FROM jobs j
        WHERE j.tenant_id = p_tenant AND j.created_at < p_detail_before AND j.updated_at < p_detail_before
          AND j.status IN ('succeeded', 'failed', 'dead')
        LIMIT p_batch FOR UPDATE SKIP LOCKED)
    DELETE FROM jobs j USING doomed d WHERE j.tenant_id = p_tenant AND j.job_id = d.job_id;
    GET DIAGNOSTICS v_jobs = ROW_COUNT;

    -- A replay holds its delivery's row while it adds jobs, so a delivery being replayed is skipped.
    WITH doomed AS (
        SELECT w.delivery_id FROM webhook_deliveries w
        WHERE w.tenant_id = p_tenant AND w.received_at < p_detail_before
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = p_tenant AND j.delivery_id = w.delivery_id)
        LIMIT p_batch FOR UPDATE SKIP LOCKED)
    DELETE FROM webhook_deliveries w USING doomed d WHERE w.tenant_id = p_tenant AND w.delivery_id = d.delivery_id;
    GET DIAGNOSTICS v_deliveries = ROW_COUNT;

    -- A record's day is its tenant's local day, at most a day after its UTC date: the day bound only
    -- lets the index narrow the scan, the time decides.
    WITH doomed AS (
        SELECT u.record_id FROM usage_records u
        WHERE u.tenant_id = p_tenant AND u.usage_day < (p_detail_before AT TIME ZONE 'UTC')::date + 2
          AND u.occurred_at < p_detail_before
        LIMIT p_batch),
    gone AS (
        DELETE FROM usage_records u USING doomed d WHERE u.tenant_id = p_tenant AND u.record_id = d.record_id
        RETURNING u.usage_day, u.provider, u.model, u.cached, u.period, u.period_start, u.prompt_tokens,
                  u.completion_tokens, u.reasoning_tokens, u.total_tokens, u.cost_micros),
    folded AS (
        INSERT INTO usage_daily AS t (tenant_id, usage_day, provider, model, cached, period, period_start, calls,
                                      prompt_tokens, completion_tokens, reasoning_tokens, total_tokens, cost_micros)
        SELECT p_tenant, g.usage_day, g.provider, g.model, g.cached, g.period, g.period_start, count(*),
               sum(g.prompt_tokens), sum(g.completion_tokens), sum(g.reasoning_tokens), sum(g.total_tokens),
               sum(g.cost_micros)
        FROM gone g
        GROUP BY g.usage_day, g.provider, g.model, g.cached, g.period, g.period_start
        ON CONFLICT (tenant_id, usage_day, provider, model, cached, period, period_start) DO UPDATE
        SET calls = t.calls + excluded.calls, prompt_tokens = t.prompt_tokens + excluded.prompt_tokens,
            completion_tokens = t.completion_tokens + excluded.completion_tokens,
            reasoning_tokens = t.reasoning_tokens + excluded.reasoning_tokens,
            total_tokens = t.total_tokens + excluded.total_tokens, cost_micros = t.cost_micros + excluded.cost_micros
        RETURNING 1)
    SELECT count(*) INTO v_usage FROM gone;

    WITH doomed AS (
        SELECT n.event_id FROM notification_events n
        WHERE n.tenant_id = p_tenant AND n.status IN ('delivered', 'failed') AND n.created_at < p_detail_before
        LIMIT p_batch FOR UPDATE SKIP LOCKED)
    DELETE FROM notification_events n USING doomed d WHERE n.tenant_id = p_tenant AND n.event_id = d.event_id;
    GET DIAGNOSTICS v_notifications = ROW_COUNT;

    WITH doomed AS (
        SELECT a.event_id FROM audit_events a
        WHERE a.tenant_id = p_tenant AND a.occurred_at < p_audit_before
        LIMIT p_batch)
    DELETE FROM audit_events a USING doomed d WHERE a.tenant_id = p_tenant AND a.event_id = d.event_id;
    GET DIAGNOSTICS v_audit = ROW_COUNT;

    RETURN QUERY SELECT v_jobs, v_deliveries, v_usage, v_notifications, v_audit;
END;
$$;
REVOKE ALL ON FUNCTION retention_prune(uuid, timestamptz, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention_prune(uuid, timestamptz, timestamptz, integer) TO controlplane_app;
