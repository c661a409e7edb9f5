-- after: 0007
-- The tenant's token limit and the tokens billed so far in its current period (no row: no budget).
-- PL/pgSQL, so its plan is kept for the session rather than made again on every call.
CREATE OR REPLACE FUNCTION budget_current_use(p_tenant uuid)
RETURNS TABLE (token_limit bigint, used bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT b.token_limit, COALESCE(pd.used, 0)
    FROM public.budgets b
    JOIN public.tenants t ON t.tenant_id = b.tenant_id
    CROSS JOIN LATERAL public.budget_period_bounds(b.period, t.timezone, pg_catalog.now()) s
    LEFT JOIN public.budget_periods pd ON pd.tenant_id = b.tenant_id AND pd.period = b.period
         AND pd.period_start = s.period_start
    WHERE b.tenant_id = p_tenant;
END;
$$;
REVOKE ALL ON FUNCTION budget_current_use(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION budget_current_use(uuid) TO controlplane_app;
