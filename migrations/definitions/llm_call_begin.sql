-- after: 0007
-- Begins a call planned from a policy and credentials the replica holds:
--   'stale'     the policy version or the credentials' digest is no longer current: nothing was counted
--               or reserved; the replica reads the plan again;
--   'hourly'    the call passes `p_hour_limit` in the current hour (it is counted, nothing is reserved);
--   'granted'   the budget holds the call's worst case: `p_pressure_tokens` when the period's billed
--               tokens reached `p_pressure_percent` of the limit (the policy's `on_budget_pressure`),
--               else `p_tokens`; or, under `degrade`, what remains when that is at least `p_minimum`;
--   'exhausted' the budget cannot hold it (the period's `exhausted` event is recorded once).
-- The reservation is made by `budget_reserve`, in this same durable transaction; 'stale' and 'hourly'
-- hold nothing and commit asynchronously (a counter is not money).
CREATE OR REPLACE FUNCTION llm_call_begin(
    p_tenant uuid, p_policy_version integer, p_credentials_digest text, p_hour_subject bytea,
    p_hour_seconds double precision, p_hour_limit integer, p_pressure_percent integer, p_reservation uuid,
    p_tokens bigint, p_pressure_tokens bigint, p_minimum bigint, p_ttl_seconds integer)
RETURNS TABLE (outcome text, under_pressure boolean, hour_hits integer, hour_resets_in double precision,
               tokens bigint, period text, period_start timestamptz, period_end timestamptz,
               token_limit bigint, used bigint, reserved bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_version  integer;
    v_digest   text;
    v_hits     integer;
    v_resets   double precision;
    v_pressure boolean := false;
    v_limit    bigint;
    v_used     bigint;
    r          record;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    SELECT COALESCE(max(p.version), 0) INTO v_version FROM llm_policies p WHERE p.tenant_id = p_tenant;
    SELECT d.digest INTO v_digest FROM llm_credentials_digest(p_tenant) d;
    IF v_version <> p_policy_version OR v_digest <> p_credentials_digest THEN
        PERFORM set_config('synchronous_commit', 'off', true);
        RETURN QUERY SELECT 'stale'::text, false, 0, 0::double precision, 0::bigint, NULL::text,
            NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    SELECT h.hits, h.resets_in INTO v_hits, v_resets
        FROM throttle_hit('llm-hour', p_hour_subject, p_hour_seconds) h;
    IF v_hits > p_hour_limit THEN
        PERFORM set_config('synchronous_commit', 'off', true);
        RETURN QUERY SELECT 'hourly'::text, false, v_hits, v_resets, 0::bigint, NULL::text,
            NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    IF p_pressure_percent IS NOT NULL THEN
        SELECT u.token_limit, u.used INTO v_limit, v_used FROM budget_current_use(p_tenant) u;
        v_pressure := v_limit IS NOT NULL AND v_used * 100 >= v_limit * p_pressure_percent;
    END IF;

    SELECT * INTO r FROM budget_reserve(p_tenant, p_reservation,
        CASE WHEN v_pressure THEN p_pressure_tokens ELSE p_tokens END, p_minimum, p_ttl_seconds, NULL);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT CASE WHEN r.granted THEN 'granted' ELSE 'exhausted' END, v_pressure, v_hits, v_resets,
        r.tokens, r.period, r.period_start, r.period_end, r.token_limit, r.used, r.reserved;
END;
$$;
REVOKE ALL ON FUNCTION llm_call_begin(uuid, integer, text, bytea, double precision, integer, integer, uuid, bigint,
                                      bigint, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION llm_call_begin(uuid, integer, text, bytea, double precision, integer, integer, uuid, bigint,
                                         bigint, bigint, integer) TO controlplane_app;
