-- after: 0003
-- Appends one ledger row and charges its tokens (unless cached) to the period of `p_reservation` (or,
-- when it was already swept, to the period containing now); with `p_release`, the reservation ends in
-- the same transaction. Crossing the soft limit records the period's `threshold_crossed` event once.
-- Answers the ledger row's id and the period's counters after the charge.
CREATE OR REPLACE FUNCTION budget_record_usage(
    p_tenant uuid, p_reservation uuid, p_release boolean, p_request_id text, p_job_id uuid, p_kind text,
    p_provider text, p_model text, p_prompt bigint, p_completion bigint, p_reasoning bigint, p_total bigint,
    p_cached boolean, p_cost_micros bigint)
RETURNS TABLE (record_id bigint, used bigint, reserved bigint, token_limit bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_budget budgets%ROWTYPE;
    v_zone   text;
    v_period text;
    v_start  timestamptz;
    v_end    timestamptz;
    v_held   bigint := 0;
    v_record bigint;
    v_used   bigint;
    v_res    bigint;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    SELECT * INTO v_budget FROM budgets b WHERE b.tenant_id = p_tenant;
    SELECT t.timezone INTO v_zone FROM tenants t WHERE t.tenant_id = p_tenant;
    IF p_reservation IS NOT NULL THEN
        IF p_release THEN
            DELETE FROM budget_reservations r WHERE r.tenant_id = p_tenant AND r.reservation_id = p_reservation
                RETURNING r.period, r.period_start, r.tokens INTO v_period, v_start, v_held;
        ELSE
            SELECT r.period, r.period_start, 0 INTO v_period, v_start, v_held FROM budget_reservations r
                WHERE r.tenant_id = p_tenant AND r.reservation_id = p_reservation;
        END IF;
    END IF;
    IF v_period IS NULL AND NOT p_cached THEN
        v_period := v_budget.period;
        SELECT s.period_start, s.period_end INTO v_start, v_end FROM budget_period_bounds(v_period, v_zone, now()) s;
        INSERT INTO budget_periods (tenant_id, period, period_start, period_end)
            VALUES (p_tenant, v_period, v_start, v_end) ON CONFLICT DO NOTHING;
        v_held := 0;
    END IF;

    INSERT INTO usage_records (tenant_id, usage_day, request_id, job_id, reservation_id, kind, provider, model,
                               prompt_tokens, completion_tokens, reasoning_tokens, total_tokens, cached,
                               cost_micros, period, period_start)
        VALUES (p_tenant, (now() AT TIME ZONE v_zone)::date, p_request_id, p_job_id, p_reservation, p_kind,
                p_provider, p_model, p_prompt, p_completion, p_reasoning, p_total, p_cached, p_cost_micros,
                CASE WHEN p_cached THEN NULL ELSE v_period END, CASE WHEN p_cached THEN NULL ELSE v_start END)
        RETURNING usage_records.record_id INTO v_record;

    IF v_period IS NOT NULL THEN
        UPDATE budget_periods p
            SET used = p.used + CASE WHEN p_cached THEN 0 ELSE p_total END, reserved = p.reserved - v_held
            WHERE p.tenant_id = p_tenant AND p.period = v_period AND p.period_start = v_start
            RETURNING p.used, p.reserved INTO v_used, v_res;
        IF v_period = v_budget.period
           AND v_used * 100 >= v_budget.token_limit * v_budget.soft_limit_percent THEN
            INSERT INTO budget_events (tenant_id, period, period_start, kind, token_limit, used)
                VALUES (p_tenant, v_period, v_start, 'threshold_crossed', v_budget.token_limit, v_used)
                ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN QUERY SELECT v_record, v_used, v_res, v_budget.token_limit;
END;
$$;
