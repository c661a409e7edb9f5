-- after: 0003
-- Reserves `p_tokens` for a provider call, or less under `degrade`, in one durable statement that refuses
-- to pass the limit: the period row is locked before its counters are read, so concurrent reservations
-- from any number of replicas can never together exceed `token_limit`. Under `degrade`, when the worst
-- case no longer fits but at least `p_minimum` tokens remain, the reservation takes what remains and
-- the caller shrinks the call to it. A refusal records the period's `exhausted` event once.
CREATE OR REPLACE FUNCTION budget_reserve(p_tenant uuid, p_reservation uuid, p_tokens bigint, p_minimum bigint,
                               p_ttl_seconds integer, p_at timestamptz)
RETURNS TABLE (granted boolean, tokens bigint, period text, period_start timestamptz, period_end timestamptz,
               token_limit bigint, used bigint, reserved bigint, soft_limit_percent integer, on_exhausted text)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_at     timestamptz := COALESCE(p_at, now());
    v_budget budgets%ROWTYPE;
    v_zone   text;
    v_start  timestamptz;
    v_end    timestamptz;
    v_take   bigint := p_tokens;
    v_used   bigint;
    v_held   bigint;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    SELECT * INTO v_budget FROM budgets b WHERE b.tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT t.timezone INTO v_zone FROM tenants t WHERE t.tenant_id = p_tenant;
    SELECT s.period_start, s.period_end INTO v_start, v_end
        FROM budget_period_bounds(v_budget.period, v_zone, v_at) s;
    INSERT INTO budget_periods (tenant_id, period, period_start, period_end)
        VALUES (p_tenant, v_budget.period, v_start, v_end) ON CONFLICT DO NOTHING;

    SELECT p.used, p.reserved INTO v_used, v_held FROM budget_periods p
        WHERE p.tenant_id = p_tenant AND p.period = v_budget.period AND p.period_start = v_start
        FOR UPDATE;
    IF v_used + v_held + v_take > v_budget.token_limit THEN
        v_take := CASE WHEN v_budget.on_exhausted = 'degrade'
                            AND v_budget.token_limit - v_used - v_held >= greatest(p_minimum, 1)
                       THEN v_budget.token_limit - v_used - v_held ELSE 0 END;
    END IF;
    IF v_take > 0 THEN
        v_held := v_held + v_take;
        UPDATE budget_periods p SET reserved = v_held
            WHERE p.tenant_id = p_tenant AND p.period = v_budget.period AND p.period_start = v_start;
        INSERT INTO budget_reservations (tenant_id, reservation_id, period, period_start, tokens, expires_at)
            VALUES (p_tenant, p_reservation, v_budget.period, v_start, v_take,
                    now() + make_interval(secs => p_ttl_seconds));
        RETURN QUERY SELECT true, v_take, v_budget.period, v_start, v_end, v_budget.token_limit, v_used, v_held,
            v_budget.soft_limit_percent, v_budget.on_exhausted;
        RETURN;
    END IF;

    INSERT INTO budget_events (tenant_id, period, period_start, kind, token_limit, used)
        VALUES (p_tenant, v_budget.period, v_start, 'exhausted', v_budget.token_limit, v_used)
        ON CONFLICT DO NOTHING;
    RETURN QUERY SELECT false, 0::bigint, v_budget.period, v_start, v_end, v_budget.token_limit, v_used, v_held,
        v_budget.soft_limit_percent, v_budget.on_exhausted;
END;
$$;
