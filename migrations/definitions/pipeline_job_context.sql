-- after: 0028
-- What a pipeline job reads of its tenant before its first step, in one round trip (it was a transaction of
-- seven): the analyses the pipeline already stored for the push's commits ('analysis': sha, output), the chat
-- handles of its authors ('handle': lowercased address, handle), the tenant's current policy ('policy': its
-- document) and the results remembered for the given commit messages ('remembered': digest in hex, output,
-- provider, model). Runs under the tenant's row-level security, as the statements it replaced; analyses and
-- messages and people are probes of their keys (`analysis_probe`, `message_probe`,
-- `identity_probe`).
CREATE OR REPLACE FUNCTION pipeline_job_context(p_tenant uuid, p_pipeline text, p_repository text, p_shas text[],
                                                p_emails text[], p_digests text[])
RETURNS TABLE (kind text, key text, value text, provider text, model text)
LANGUAGE plpgsql SET search_path = pg_catalog, public SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN QUERY
        SELECT 'analysis', found.sha, found.output, NULL::text, NULL::text
        FROM analysis_probe(p_pipeline, p_repository, p_shas) AS found;
    IF cardinality(p_emails) > 0 THEN
        RETURN QUERY
            SELECT 'handle', p.address, p.chat_handle, NULL::text, NULL::text
            FROM identity_probe(p_emails) AS p WHERE p.chat_handle IS NOT NULL;
    END IF;
    RETURN QUERY
        SELECT 'policy', NULL::text, l.document::text, NULL::text, NULL::text
        FROM llm_policies l WHERE l.tenant_id = p_tenant ORDER BY l.version DESC LIMIT 1;
    IF cardinality(p_digests) > 0 THEN
        RETURN QUERY
            SELECT 'remembered', found.hex, found.output, found.provider, found.model
            FROM message_probe(p_pipeline, p_digests) AS found;
    END IF;
    PERFORM set_config('app.tenant_id', '', true);
END;
$$;
