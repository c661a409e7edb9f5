-- after: 0027
-- Stores one commit's analysis unless its pipeline already has one for that commit (then nothing changes)
-- and, when `p_message_hash` is given, the checked answer remembered for its commit message: one round trip
-- and one commit (it was a transaction of five). Runs under the tenant's row-level security, as the
-- statements it replaced.
CREATE OR REPLACE FUNCTION analysis_save(
    p_tenant uuid, p_analysis uuid, p_job uuid, p_delivery uuid, p_pipeline text, p_repository text, p_sha text,
    p_author_name text, p_author_email text, p_author_handle text, p_committed_at timestamptz, p_output text,
    p_provider text, p_model text, p_prompt bigint, p_completion bigint, p_total bigint, p_reused boolean,
    p_subject text, p_message_hash bytea, p_simhash bigint, p_remembered text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    IF p_message_hash IS NOT NULL THEN
        INSERT INTO message_results (tenant_id, pipeline, message_hash, simhash, output, provider, model)
        VALUES (p_tenant, p_pipeline, p_message_hash, p_simhash, p_remembered::jsonb, p_provider, p_model)
        ON CONFLICT (tenant_id, pipeline, message_hash) DO NOTHING;
    END IF;
    INSERT INTO analyses (tenant_id, analysis_id, job_id, delivery_id, pipeline, repository, sha, author_name,
                          author_email, author_handle, committed_at, output, provider, model, prompt_tokens,
                          completion_tokens, total_tokens, reused, subject)
    VALUES (p_tenant, p_analysis, p_job, p_delivery, p_pipeline, p_repository, p_sha, p_author_name, p_author_email,
            p_author_handle, p_committed_at, p_output::jsonb, p_provider, p_model, p_prompt, p_completion, p_total,
            p_reused, p_subject)
    ON CONFLICT (tenant_id, pipeline, sha, lower(repository)) DO NOTHING;
    PERFORM set_config('app.tenant_id', '', true);
END;
$$;
