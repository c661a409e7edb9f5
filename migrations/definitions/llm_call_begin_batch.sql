-- after: 0027
-- Begins several calls of one tenant in one transaction and one durable commit (group commit): each as
-- `llm_call_begin` would alone, in the order given (its arrival order). A call sees the reservations of the
-- calls before it, so the budget holds exactly what it would have held for them one by one. No
-- subtransactions: each would lock the tenant's row under its own transaction id, and those locks together
-- make a multixact that every other reader of the row must then resolve (`GetMultiXactIdMembers` was 10 %
-- of Postgres's samples at c32). Should any call fail, the whole batch rolls back and the replica begins
-- its calls one by one (Gateway's TenantBatcher), so a failing call still fails alone. A 'stale' or 'hourly'
-- call turns synchronous commit off for its transaction (a counter is not money); the batch turns it back
-- on when any call reserved or was refused by the budget. A pressure percent of -1 stands for none (NULL).
CREATE OR REPLACE FUNCTION llm_call_begin_batch(
    p_tenants uuid[], p_policy_versions integer[], p_credentials_digests text[], p_hour_subjects bytea[],
    p_hour_seconds double precision[], p_hour_limits integer[], p_pressure_percents integer[],
    p_reservations uuid[], p_tokens bigint[], p_pressure_tokens bigint[], p_minimums bigint[],
    p_ttl_seconds integer[])
RETURNS TABLE (ordinal integer, outcome text, under_pressure boolean, hour_hits integer,
               hour_resets_in double precision, tokens bigint, period text, period_start timestamptz,
               period_end timestamptz, token_limit bigint, used bigint, reserved bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_sync    text := current_setting('synchronous_commit');
    v_durable boolean := false;
    r         record;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_tenants), 0) LOOP
        FOR r IN SELECT * FROM llm_call_begin(p_tenants[i], p_policy_versions[i], p_credentials_digests[i],
                p_hour_subjects[i], p_hour_seconds[i], p_hour_limits[i], NULLIF(p_pressure_percents[i], -1),
                p_reservations[i], p_tokens[i], p_pressure_tokens[i], p_minimums[i], p_ttl_seconds[i]) LOOP
            ordinal := i;
            outcome := r.outcome;
            under_pressure := r.under_pressure;
            hour_hits := r.hour_hits;
            hour_resets_in := r.hour_resets_in;
            tokens := r.tokens;
            period := r.period;
            period_start := r.period_start;
            period_end := r.period_end;
            token_limit := r.token_limit;
            used := r.used;
            reserved := r.reserved;
            RETURN NEXT;
            v_durable := v_durable OR r.outcome IN ('granted', 'exhausted');
        END LOOP;
    END LOOP;
    IF v_durable THEN
        PERFORM set_config('synchronous_commit', v_sync, true);
    END IF;
    PERFORM set_config('app.tenant_id', '', true);
END;
$$;
REVOKE ALL ON FUNCTION llm_call_begin_batch(uuid[], integer[], text[], bytea[], double precision[], integer[],
                                            integer[], uuid[], bigint[], bigint[], bigint[], integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION llm_call_begin_batch(uuid[], integer[], text[], bytea[], double precision[], integer[],
                                               integer[], uuid[], bigint[], bigint[], bigint[], integer[])
    TO controlplane_app;
