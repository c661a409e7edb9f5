-- after: 0003
-- The start and end of the budget period containing `p_at` in the time zone `p_zone`, calendar-aligned
-- (days at midnight, ISO weeks on Monday, months on the first). PL/pgSQL rather than SQL: a SQL function
-- with its own settings is never inlined, so every call from a statement parsed and planned it again;
-- PL/pgSQL keeps its plan for the session.
CREATE OR REPLACE FUNCTION budget_period_bounds(p_period text, p_zone text, p_at timestamptz,
                                     OUT period_start timestamptz, OUT period_end timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
BEGIN
    period_start := date_trunc(p_period, p_at AT TIME ZONE p_zone) AT TIME ZONE p_zone;
    period_end := (date_trunc(p_period, p_at AT TIME ZONE p_zone) + ('1 ' || p_period)::interval) AT TIME ZONE p_zone;
END;
$$;
