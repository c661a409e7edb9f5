-- after: 0026
-- One rate-limit take for `p_tenant` (a lease of one, `rate_limit_lease`), as one statement outside any
-- transaction.
CREATE OR REPLACE FUNCTION rate_limit_take(p_tenant uuid)
RETURNS TABLE (allowed boolean, requests_per_minute integer, burst integer, remaining integer,
               reset_seconds double precision, retry_after_seconds double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY
    SELECT l.granted > 0, l.requests_per_minute, l.burst, l.remaining, l.reset_seconds, l.retry_after_seconds
    FROM rate_limit_lease(p_tenant, 1) AS l;
END;
$$;
