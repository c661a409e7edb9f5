-- after: 0003
-- Ends a reservation without charging anything (the call failed and the provider billed nothing, or
-- the sweeper found its holder dead). Answers whether it was still open.
CREATE OR REPLACE FUNCTION budget_release(p_tenant uuid, p_reservation uuid)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_period text;
    v_start  timestamptz;
    v_held   bigint;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    DELETE FROM budget_reservations r WHERE r.tenant_id = p_tenant AND r.reservation_id = p_reservation
        RETURNING r.period, r.period_start, r.tokens INTO v_period, v_start, v_held;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE budget_periods p SET reserved = p.reserved - v_held
        WHERE p.tenant_id = p_tenant AND p.period = v_period AND p.period_start = v_start;
    RETURN true;
END;
$$;
