-- after: 0006
-- A tenant's own row in one statement, for the authenticated hot path (GET /v1/tenant): the function sets
-- the tenant for its own implicit transaction, so row-level security decides exactly as in a tenant
-- transaction, and the read costs one round trip to Postgres instead of four (BEGIN, scope, SELECT,
-- COMMIT). On this machine a round trip, not the query, is what a request spends most of its time on.
CREATE OR REPLACE FUNCTION tenant_read(p_tenant uuid)
RETURNS TABLE (tenant_id uuid, slug text, name text, status text, plan text, timezone text,
               created_at timestamptz)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN QUERY SELECT t.tenant_id, t.slug, t.name, t.status, t.plan, t.timezone, t.created_at
        FROM tenants t WHERE t.tenant_id = p_tenant;
END;
$$;
REVOKE ALL ON FUNCTION tenant_read(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_read(uuid) TO controlplane_app;
