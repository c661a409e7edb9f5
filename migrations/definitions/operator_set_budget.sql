-- after: 0003
CREATE OR REPLACE FUNCTION operator_set_budget(target uuid, new_max bigint, new_period text, new_limit bigint,
                                    new_soft integer, new_on_exhausted text)
RETURNS SETOF budgets
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF current_setting('app.operator', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'operator_set_budget needs an operator transaction' USING ERRCODE = '42501';
    END IF;
    RETURN QUERY
        UPDATE budgets b SET
            max_token_limit = new_max,
            period = COALESCE(new_period, b.period),
            token_limit = least(COALESCE(new_limit, b.token_limit), new_max),
            soft_limit_percent = COALESCE(new_soft, b.soft_limit_percent),
            on_exhausted = COALESCE(new_on_exhausted, b.on_exhausted),
            updated_at = now()
        WHERE b.tenant_id = target
        RETURNING *;
END;
$$;
REVOKE ALL ON FUNCTION operator_set_budget(uuid, bigint, text, bigint, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION operator_set_budget(uuid, bigint, text, bigint, integer, text) TO controlplane_app;
