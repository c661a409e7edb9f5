-- A gateway call whose policy and credentials a replica already holds begins in one statement: it checks
-- that what the replica holds is still current (policy version and a digest of the credentials), counts
-- the call against the hourly cap, works out budget pressure and reserves the worst case. A call then
-- costs three round trips to Postgres (rate limit, begin, record) instead of four, and the replica
-- decodes the policy and opens the credentials once per change instead of once per call.

-- Two reads shared by `llm_call_plan` and `llm_call_begin`, written so that Postgres inlines them into
-- their callers (LANGUAGE sql, STABLE, one SELECT, no SET clause, so every name is schema-qualified
-- instead): called as functions, each cost ~0.1 ms here.

-- A digest of a tenant's provider credentials: changes whenever one is set, replaced or removed (the
-- sealed key has a fresh nonce each time it is sealed). '' when the tenant has none.
CREATE FUNCTION llm_credentials_digest(p_tenant uuid)
RETURNS TABLE (digest text)
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(pg_catalog.md5(pg_catalog.string_agg(
               c.provider || ':' || pg_catalog.encode(pg_catalog.sha256(c.api_key_sealed), 'hex') || ':'
               || COALESCE(c.base_url, ''), ',' ORDER BY c.provider)), '')
    FROM public.provider_credentials c WHERE c.tenant_id = p_tenant
$$;

-- The tenant's token limit and the tokens billed so far in its current period (no row: no budget).
CREATE FUNCTION budget_current_use(p_tenant uuid)
RETURNS TABLE (token_limit bigint, used bigint)
LANGUAGE sql STABLE AS $$
    SELECT b.token_limit, COALESCE(pd.used, 0)
    FROM public.budgets b
    JOIN public.tenants t ON t.tenant_id = b.tenant_id
    CROSS JOIN LATERAL public.budget_period_bounds(b.period, t.timezone, pg_catalog.now()) s
    LEFT JOIN public.budget_periods pd ON pd.tenant_id = b.tenant_id AND pd.period = b.period
         AND pd.period_start = s.period_start
    WHERE b.tenant_id = p_tenant
$$;

-- `llm_call_plan` of 0005, answering the credentials' digest as well, so a replica knows what it holds.
DROP FUNCTION llm_call_plan(uuid, bytea, double precision);
CREATE FUNCTION llm_call_plan(p_tenant uuid, p_hour_subject bytea, p_hour_seconds double precision)
RETURNS TABLE (policy_version integer, policy_document text, credential_providers text[],
               credential_keys bytea[], credential_base_urls text[], credentials_digest text,
               budget_token_limit bigint, budget_used bigint, hour_hits integer, hour_resets_in double precision)
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
    SELECT u.token_limit, u.used INTO v_limit, v_used FROM budget_current_use(p_tenant) u;
    SELECT h.hits, h.resets_in INTO v_hits, v_resets
        FROM throttle_hit('llm-hour', p_hour_subject, p_hour_seconds) h;
    RETURN QUERY SELECT v_version, v_document, COALESCE(v_providers, '{}'), COALESCE(v_keys, '{}'),
        COALESCE(v_urls, '{}'), (SELECT d.digest FROM llm_credentials_digest(p_tenant) d), v_limit, v_used,
        v_hits, v_resets;
END;
$$;

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
CREATE FUNCTION llm_call_begin(
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

REVOKE ALL ON FUNCTION llm_credentials_digest(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION budget_current_use(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION llm_call_plan(uuid, bytea, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION llm_call_begin(uuid, integer, text, bytea, double precision, integer, integer, uuid, bigint,
                                      bigint, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION llm_credentials_digest(uuid) TO controlplane_app;
GRANT EXECUTE ON FUNCTION budget_current_use(uuid) TO controlplane_app;
GRANT EXECUTE ON FUNCTION llm_call_plan(uuid, bytea, double precision) TO controlplane_app;
GRANT EXECUTE ON FUNCTION llm_call_begin(uuid, integer, text, bytea, double precision, integer, integer, uuid, bigint,
                                         bigint, bigint, integer) TO controlplane_app;
