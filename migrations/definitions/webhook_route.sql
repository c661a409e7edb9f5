-- after: 0008
-- The endpoint behind an ingest URL with what verifying and routing a delivery needs, in one round trip.
-- No row: no such endpoint (or a deleted one).
CREATE OR REPLACE FUNCTION webhook_route(p_endpoint uuid)
RETURNS TABLE (tenant_id uuid, tenant_status text, active boolean, secret_sealed bytea,
               previous_secret_sealed bytea, previous_secret_expires_at timestamptz, pipelines text[],
               repositories text[])
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_tenant uuid;
BEGIN
    SELECT r.tenant_id INTO v_tenant FROM webhook_routes r WHERE r.endpoint_id = p_endpoint;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('app.tenant_id', v_tenant::text, true);
    RETURN QUERY
        SELECT e.tenant_id, t.status, e.active, e.secret_sealed, e.previous_secret_sealed,
               e.previous_secret_expires_at, e.pipelines, e.repositories
        FROM webhook_endpoints e JOIN tenants t ON t.tenant_id = e.tenant_id
        WHERE e.tenant_id = v_tenant AND e.endpoint_id = p_endpoint;
END;
$$;
