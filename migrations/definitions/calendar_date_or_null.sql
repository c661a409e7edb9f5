-- after: 0018
-- A `YYYY-MM-DD` text as a date, or NULL when it names no calendar day (2026-02-30).
CREATE OR REPLACE FUNCTION calendar_date_or_null(p_text text) RETURNS date
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
    IF p_text IS NULL OR p_text !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN p_text::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;
