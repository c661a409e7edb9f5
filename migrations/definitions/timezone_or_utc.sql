-- after: 0024
-- `p_zone` when Postgres knows it as a time zone, else 'UTC'.
CREATE OR REPLACE FUNCTION timezone_or_utc(p_zone text)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
BEGIN
    IF p_zone IS NULL THEN
        RETURN 'UTC';
    END IF;
    PERFORM now() AT TIME ZONE p_zone;
    RETURN p_zone;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN 'UTC';
END;
$$;
