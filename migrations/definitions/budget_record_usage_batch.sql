-- after: 0027
-- Records several billed attempts of one tenant in one transaction and one durable commit (group commit):
-- each as `budget_record_usage` would alone, in the order given. No subtransactions (see
-- `llm_call_begin_batch`): should any entry fail, the whole batch rolls back and the replica records its
-- entries one by one (Billing's TokenBudget), so a failing entry still fails alone. Absent values are sent
-- as the nil UUID (reservation, job) and the empty string (request id), which no real one is.
CREATE OR REPLACE FUNCTION budget_record_usage_batch(
    p_tenants uuid[], p_reservations uuid[], p_releases boolean[], p_request_ids text[], p_job_ids uuid[],
    p_kinds text[], p_providers text[], p_models text[], p_prompts bigint[], p_completions bigint[],
    p_reasonings bigint[], p_totals bigint[], p_cached boolean[], p_costs bigint[])
RETURNS TABLE (ordinal integer, record_id bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_none uuid := '00000000-0000-0000-0000-000000000000';
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_tenants), 0) LOOP
        ordinal := i;
        SELECT u.record_id INTO record_id FROM budget_record_usage(p_tenants[i],
            NULLIF(p_reservations[i], v_none), p_releases[i], NULLIF(p_request_ids[i], ''),
            NULLIF(p_job_ids[i], v_none), p_kinds[i], p_providers[i], p_models[i], p_prompts[i],
            p_completions[i], p_reasonings[i], p_totals[i], p_cached[i], p_costs[i]) u;
        RETURN NEXT;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END;
$$;
REVOKE ALL ON FUNCTION budget_record_usage_batch(uuid[], uuid[], boolean[], text[], uuid[], text[], text[], text[],
                                                 bigint[], bigint[], bigint[], bigint[], boolean[], bigint[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION budget_record_usage_batch(uuid[], uuid[], boolean[], text[], uuid[], text[], text[],
                                                    text[], bigint[], bigint[], bigint[], bigint[], boolean[],
                                                    bigint[])
    TO controlplane_app;
