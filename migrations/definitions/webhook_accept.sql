-- after: 0008
-- Records a verified delivery and its jobs in one durable statement. The same GitHub delivery id on the
-- same endpoint records nothing new: the first delivery's id, status and jobs are answered instead
-- (`duplicate`), however many arrive at once (the unique index makes the later ones wait and skip).
CREATE OR REPLACE FUNCTION webhook_accept(
    p_tenant uuid, p_endpoint uuid, p_delivery uuid, p_github_delivery text, p_event text, p_action text,
    p_repository text, p_ref text, p_status text, p_reason text, p_content_type text, p_body bytea,
    p_pipelines text[], p_job_ids uuid[], p_max_attempts integer)
RETURNS TABLE (delivery_id uuid, status text, duplicate boolean, job_ids uuid[])
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    v_inserted uuid;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    INSERT INTO webhook_deliveries (tenant_id, delivery_id, endpoint_id, github_delivery, event, action,
                                    repository, ref, status, reason, content_type, body, job_count)
    VALUES (p_tenant, p_delivery, p_endpoint, p_github_delivery, p_event, p_action, p_repository, p_ref,
            p_status, p_reason, p_content_type, p_body, cardinality(p_job_ids))
    ON CONFLICT (tenant_id, endpoint_id, github_delivery) DO NOTHING
    RETURNING webhook_deliveries.delivery_id INTO v_inserted;
    IF v_inserted IS NULL THEN
        RETURN QUERY
            SELECT d.delivery_id, d.status, true,
                   COALESCE((SELECT array_agg(j.job_id ORDER BY j.pipeline) FROM jobs j
                             WHERE j.tenant_id = p_tenant AND j.delivery_id = d.delivery_id), '{}')
            FROM webhook_deliveries d
            WHERE d.tenant_id = p_tenant AND d.endpoint_id = p_endpoint AND d.github_delivery = p_github_delivery;
        RETURN;
    END IF;
    INSERT INTO jobs (tenant_id, job_id, delivery_id, pipeline, repository, max_attempts)
    SELECT p_tenant, j.job_id, p_delivery, j.pipeline, p_repository, p_max_attempts
    FROM unnest(p_job_ids, p_pipelines) AS j (job_id, pipeline);
    RETURN QUERY SELECT p_delivery, p_status, false, p_job_ids;
END;
$$;
