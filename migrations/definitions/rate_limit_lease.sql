-- after: 0026
-- Up to `p_wanted` requests of `p_tenant` taken from its bucket at once (a lease its replica hands out
-- itself), as one statement outside any transaction: it sets the tenant and an asynchronous commit for
-- its own implicit transaction only. Grants as many as the bucket holds now, at most `p_wanted` (1 to
-- 1000): the bucket moves on by exactly what was granted, so leases can never let through more than the
-- limit and the burst allow, however many replicas take them. Answers how many were granted (0: refused)
-- and the limits as they stand after the lease.
CREATE OR REPLACE FUNCTION rate_limit_lease(p_tenant uuid, p_wanted integer)
RETURNS TABLE (granted integer, requests_per_minute integer, burst integer, remaining integer,
               reset_seconds double precision, retry_after_seconds double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_now      double precision := extract(epoch FROM clock_timestamp());
    v_wanted   integer := least(greatest(coalesce(p_wanted, 1), 1), 1000);
    v_rpm      integer;
    v_burst    integer;
    v_interval double precision;
    v_tat      double precision;
    v_granted  integer;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT l.requests_per_minute, l.burst INTO v_rpm, v_burst FROM rate_limits l WHERE l.tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_interval := 60.0 / v_rpm;
    -- GCRA: n requests fit while the theoretical arrival time after the n-th stays within the burst. The
    -- SET expressions read the row as it was (`b.tat` is the old time). A refusal leaves the time as it
    -- was: refused means the old time is ahead of now, so `greatest` picks it and nothing is added.
    INSERT INTO rate_limit_buckets AS b (tenant_id, tat, allowed, granted)
    VALUES (p_tenant, v_now + least(v_wanted, v_burst) * v_interval, true, least(v_wanted, v_burst))
    ON CONFLICT (tenant_id) DO UPDATE SET
        granted = greatest(0, least(v_wanted,
            floor((v_burst * v_interval - (greatest(b.tat, v_now) - v_now)) / v_interval + 1e-9)::integer)),
        tat = greatest(b.tat, v_now) + greatest(0, least(v_wanted,
            floor((v_burst * v_interval - (greatest(b.tat, v_now) - v_now)) / v_interval + 1e-9)::integer))
            * v_interval,
        allowed = floor((v_burst * v_interval - (greatest(b.tat, v_now) - v_now)) / v_interval + 1e-9) >= 1
    RETURNING b.tat, b.granted INTO v_tat, v_granted;
    IF v_granted > 0 THEN
        RETURN QUERY SELECT v_granted, v_rpm, v_burst,
            greatest(0, floor((v_burst * v_interval - (v_tat - v_now)) / v_interval + 1e-9))::integer,
            greatest(0, v_tat - v_now), 0::double precision;
    ELSE
        RETURN QUERY SELECT 0, v_rpm, v_burst, 0, greatest(0, v_tat - v_now),
            greatest(0, v_tat + v_interval - v_burst * v_interval - v_now);
    END IF;
END;
$$;
