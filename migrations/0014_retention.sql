-- Retention: a tenant's deliveries, jobs, usage detail and sent notifications older than its plan's
-- retention are pruned in batches by the workers; its audit events after a longer period of their own.
-- Usage detail is folded into daily totals before it goes, so usage by day and the budget
-- reconciliation answer the same forever.

-- Daily usage totals of pruned usage records, by provider, model, cached or not, and budget period.
CREATE TABLE usage_daily (
    tenant_id         uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    usage_day         date NOT NULL,
    provider          text NOT NULL,
    model             text NOT NULL,
    cached            boolean NOT NULL,
    period            text,
    period_start      timestamptz,
    calls             bigint NOT NULL CHECK (calls >= 0),
    prompt_tokens     bigint NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens bigint NOT NULL CHECK (completion_tokens >= 0),
    reasoning_tokens  bigint NOT NULL CHECK (reasoning_tokens >= 0),
    total_tokens      bigint NOT NULL CHECK (total_tokens >= 0),
    cost_micros       bigint NOT NULL CHECK (cost_micros >= 0)
);
CREATE UNIQUE INDEX usage_daily_key ON usage_daily
    (tenant_id, usage_day, provider, model, cached, period, period_start) NULLS NOT DISTINCT;
CREATE INDEX usage_daily_period_idx ON usage_daily (tenant_id, period, period_start) WHERE NOT cached;
CREATE INDEX usage_daily_platform_day_idx ON usage_daily (usage_day);
ALTER TABLE usage_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_daily
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY operator_read ON usage_daily FOR SELECT
    USING (current_setting('app.operator', true) = 'on');

-- The reconciliation counts pruned detail through its daily totals.
CREATE OR REPLACE VIEW budget_reconciliation WITH (security_invoker = true) AS
    SELECT p.tenant_id, p.period, p.period_start, p.used, p.reserved,
           (COALESCE((SELECT sum(u.total_tokens) FROM usage_records u
                      WHERE u.tenant_id = p.tenant_id AND u.period = p.period AND u.period_start = p.period_start
                        AND NOT u.cached), 0)
            + COALESCE((SELECT sum(d.total_tokens) FROM usage_daily d
                        WHERE d.tenant_id = p.tenant_id AND d.period = p.period AND d.period_start = p.period_start
                          AND NOT d.cached), 0))::bigint AS ledger_tokens,
           COALESCE((SELECT sum(r.tokens) FROM budget_reservations r
                     WHERE r.tenant_id = p.tenant_id AND r.period = p.period AND r.period_start = p.period_start),
                    0)::bigint AS open_reservations
    FROM budget_periods p;

-- The pruner walks every tenant's oldest rows; audit events had no index that starts with the time.
CREATE INDEX audit_events_age_idx ON audit_events (tenant_id, occurred_at);
CREATE INDEX notification_events_age_idx ON notification_events (tenant_id, created_at)
    WHERE status IN ('delivered', 'failed');

-- One batch of one tenant's pruning: at most `p_batch` rows of each kind older than the cutoffs. The
-- application role may not delete from these append-only tables; this function is the one way, and it
-- only removes finished work: open jobs, deliveries with a job left, and pending notifications stay
-- whatever their age. Usage records are folded into `usage_daily` in the statement that deletes them.
-- Two workers pruning the same tenant at once: the second gets no row back and moves on.
CREATE FUNCTION retention_prune(p_tenant uuid, p_detail_before timestamptz, p_audit_before timestamptz,
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
GRANT SELECT ON usage_daily TO controlplane_app;
