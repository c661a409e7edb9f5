-- after: 0007
CREATE OR REPLACE FUNCTION llm_call_plan(p_tenant uuid, p_hour_subject bytea, p_hour_seconds double precision)
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
REVOKE ALL ON FUNCTION llm_call_plan(uuid, bytea, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION llm_call_plan(uuid, bytea, double precision) TO controlplane_app;
