-- One statement for everything a gateway call needs before it reserves: the policy in force, the
-- tenant's sealed credentials, the budget's standing (for `on_budget_pressure`) and one hit on the hourly
-- LLM call counter. A call then costs four round trips to Postgres (rate limit, plan, reserve, record)
-- instead of sixteen.

-- One hit on a fixed-window counter (the `throttle_windows` table, no tenant rows), answering the hits in
-- the current window and the seconds until it ends. Shared by `FixedWindowThrottle` and `llm_call_plan`.
CREATE FUNCTION throttle_hit(p_scope text, p_subject bytea, p_window_seconds double precision,
                             OUT hits integer, OUT resets_in double precision)
LANGUAGE sql SET search_path = pg_catalog, public AS $$
    INSERT INTO throttle_windows AS t (scope, subject_hash, window_start, hits, expires_at)
    VALUES (p_scope, p_subject, now(), 1, now() + make_interval(secs => p_window_seconds))
    ON CONFLICT (scope, subject_hash) DO UPDATE SET
        hits = CASE WHEN t.window_start <= now() - make_interval(secs => p_window_seconds)
                    THEN 1 ELSE t.hits + 1 END,
        window_start = CASE WHEN t.window_start <= now() - make_interval(secs => p_window_seconds)
                            THEN now() ELSE t.window_start END,
        expires_at = CASE WHEN t.window_start <= now() - make_interval(secs => p_window_seconds)
                          THEN now() + make_interval(secs => p_window_seconds) ELSE t.expires_at END
    RETURNING hits, EXTRACT(EPOCH FROM (window_start + make_interval(secs => p_window_seconds) - now()))::float8
$$;

-- The plan of one gateway call of `p_tenant`, in the tenant's own scope (row-level security applies).
-- The hourly counter is a counter, not money: the statement commits asynchronously, so a tenant's calls
-- never queue on its fsync. `policy_version` is 0 and `policy_document` NULL when the tenant never set a
-- policy; `budget_token_limit` is NULL when it has no budget; a credential without a base URL has ''.
CREATE FUNCTION llm_call_plan(p_tenant uuid, p_hour_subject bytea, p_hour_seconds double precision)
RETURNS TABLE (policy_version integer, policy_document text, credential_providers text[],
               credential_keys bytea[], credential_base_urls text[], budget_token_limit bigint,
               budget_used bigint, hour_hits integer, hour_resets_in double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_version   integer := 0;
    v_document  text;
    v_providers text[];
    v_keys      bytea[];
    v_urls      text[];
    v_limit     bigint;
    v_used      bigint;
    v_hits      integer;
    v_resets    double precision;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT p.version, p.document::text INTO v_version, v_document FROM llm_policies p
        WHERE p.tenant_id = p_tenant ORDER BY p.version DESC LIMIT 1;
    IF NOT FOUND THEN
        v_version := 0;
    END IF;
    SELECT array_agg(c.provider ORDER BY c.provider), array_agg(c.api_key_sealed ORDER BY c.provider),
           array_agg(COALESCE(c.base_url, '') ORDER BY c.provider)
        INTO v_providers, v_keys, v_urls
        FROM provider_credentials c WHERE c.tenant_id = p_tenant;
    SELECT b.token_limit, COALESCE(pd.used, 0) INTO v_limit, v_used
        FROM budgets b
        JOIN tenants t ON t.tenant_id = b.tenant_id
        CROSS JOIN LATERAL budget_period_bounds(b.period, t.timezone, now()) s
        LEFT JOIN budget_periods pd ON pd.tenant_id = b.tenant_id AND pd.period = b.period
             AND pd.period_start = s.period_start
        WHERE b.tenant_id = p_tenant;
    SELECT h.hits, h.resets_in INTO v_hits, v_resets
        FROM throttle_hit('llm-hour', p_hour_subject, p_hour_seconds) h;
    RETURN QUERY SELECT v_version, v_document, COALESCE(v_providers, '{}'), COALESCE(v_keys, '{}'),
        COALESCE(v_urls, '{}'), v_limit, v_used, v_hits, v_resets;
END;
$$;

REVOKE ALL ON FUNCTION throttle_hit(text, bytea, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION llm_call_plan(uuid, bytea, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION throttle_hit(text, bytea, double precision) TO controlplane_app;
GRANT EXECUTE ON FUNCTION llm_call_plan(uuid, bytea, double precision) TO controlplane_app;
