-- after: 0003
-- One rate-limit take for `p_tenant`, as one statement outside any transaction: it sets the tenant and
-- an asynchronous commit for its own implicit transaction only.
CREATE OR REPLACE FUNCTION rate_limit_take(p_tenant uuid)
RETURNS TABLE (allowed boolean, requests_per_minute integer, burst integer, remaining integer,
               reset_seconds double precision, retry_after_seconds double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_now      double precision := extract(epoch FROM clock_timestamp());
    v_rpm      integer;
    v_burst    integer;
    v_interval double precision;
    v_tat      double precision;
    v_allowed  boolean;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT l.requests_per_minute, l.burst INTO v_rpm, v_burst FROM rate_limits l WHERE l.tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_interval := 60.0 / v_rpm;
    INSERT INTO rate_limit_buckets AS b (tenant_id, tat, allowed) VALUES (p_tenant, v_now + v_interval, true)
    ON CONFLICT (tenant_id) DO UPDATE SET
        allowed = greatest(b.tat, v_now) + v_interval - v_now <= v_burst * v_interval + 1e-9,
        tat = CASE WHEN greatest(b.tat, v_now) + v_interval - v_now <= v_burst * v_interval + 1e-9
                   THEN greatest(b.tat, v_now) + v_interval ELSE b.tat END
    RETURNING b.tat, b.allowed INTO v_tat, v_allowed;
    IF v_allowed THEN
        RETURN QUERY SELECT true, v_rpm, v_burst,
            greatest(0, floor((v_burst * v_interval - (v_tat - v_now)) / v_interval + 1e-9))::integer,
            greatest(0, v_tat - v_now), 0::double precision;
    ELSE
        RETURN QUERY SELECT false, v_rpm, v_burst, 0, greatest(0, v_tat - v_now),
            greatest(0, v_tat + v_interval - v_burst * v_interval - v_now);
    END IF;
END;
$$;
