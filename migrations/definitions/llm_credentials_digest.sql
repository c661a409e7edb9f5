-- after: 0007
-- A digest of a tenant's provider credentials: changes whenever one is set, replaced or removed (the
-- sealed key has a fresh nonce each time it is sealed). '' when the tenant has none. PL/pgSQL, so its
-- plan is kept for the session rather than made again on every call.
CREATE OR REPLACE FUNCTION llm_credentials_digest(p_tenant uuid)
RETURNS TABLE (digest text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT COALESCE(pg_catalog.md5(pg_catalog.string_agg(
               c.provider || ':' || pg_catalog.encode(pg_catalog.sha256(c.api_key_sealed), 'hex') || ':'
               || COALESCE(c.base_url, ''), ',' ORDER BY c.provider)), '')
    FROM public.provider_credentials c WHERE c.tenant_id = p_tenant;
END;
$$;
REVOKE ALL ON FUNCTION llm_credentials_digest(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION llm_credentials_digest(uuid) TO controlplane_app;
