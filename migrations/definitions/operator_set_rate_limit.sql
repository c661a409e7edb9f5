-- after: 0003
-- Operator caps change only in an operator transaction; lowering a cap lowers the tenant's own
-- setting with it.
CREATE OR REPLACE FUNCTION operator_set_rate_limit(target uuid, new_max_rpm integer, new_max_burst integer,
                                        new_rpm integer, new_burst integer)
RETURNS SETOF rate_limits
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF current_setting('app.operator', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'operator_set_rate_limit needs an operator transaction' USING ERRCODE = '42501';
    END IF;
    RETURN QUERY
        UPDATE rate_limits l SET
            max_requests_per_minute = new_max_rpm, max_burst = new_max_burst,
            requests_per_minute = least(COALESCE(new_rpm, l.requests_per_minute), new_max_rpm),
            burst = least(COALESCE(new_burst, l.burst), new_max_burst),
            updated_at = now()
        WHERE l.tenant_id = target
        RETURNING *;
END;
$$;
REVOKE ALL ON FUNCTION operator_set_rate_limit(uuid, integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION operator_set_rate_limit(uuid, integer, integer, integer, integer) TO controlplane_app;
