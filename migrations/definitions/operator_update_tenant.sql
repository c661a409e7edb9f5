-- after: 0002
CREATE OR REPLACE FUNCTION operator_update_tenant(target uuid, new_status text, new_plan text)
RETURNS SETOF tenants
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF current_setting('app.operator', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'operator_update_tenant needs an operator transaction' USING ERRCODE = '42501';
    END IF;
    RETURN QUERY
        UPDATE tenants SET status = COALESCE(new_status, status), plan = COALESCE(new_plan, plan),
                           updated_at = now()
        WHERE tenant_id = target
        RETURNING *;
END;
$$;
REVOKE ALL ON FUNCTION operator_update_tenant(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION operator_update_tenant(uuid, text, text) TO controlplane_app;
