-- after: 0003
-- The start and end of the budget period containing `p_at` in the time zone `p_zone`, calendar-aligned
-- (days at midnight, ISO weeks on Monday, months on the first).
CREATE OR REPLACE FUNCTION budget_period_bounds(p_period text, p_zone text, p_at timestamptz,
                                     OUT period_start timestamptz, OUT period_end timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT date_trunc(p_period, p_at AT TIME ZONE p_zone) AT TIME ZONE p_zone,
           (date_trunc(p_period, p_at AT TIME ZONE p_zone) + ('1 ' || p_period)::interval) AT TIME ZONE p_zone
$$;
