-- after: 0027
-- The analyses a pipeline stored for these commits of a repository (at most one each): one probe of the
-- key per commit, whatever the statistics say. The tenant is the transaction's, named through a subquery
-- whose value the planner cannot see, so it plans for an average tenant: given the id, it looked it up in
-- its last sample, and a tenant the sample missed (new, or grown since) looked like it had no rows, so
-- any index starting with `tenant_id` looked as good as the key (the probe then read all the tenant's
-- analyses: 12,000 rows per job after 12,000 jobs of `bench/runtime.sh`). A plain STABLE SQL function,
-- so the planner inlines it into the statement that calls it (and EXPLAIN shows its plan).
CREATE OR REPLACE FUNCTION analysis_probe(p_pipeline text, p_repository text, p_shas text[])
RETURNS TABLE (sha text, analysis_id uuid, output text)
LANGUAGE sql STABLE AS $$
    SELECT wanted.sha, found.analysis_id, found.output::text
    FROM unnest(p_shas) AS wanted (sha)
    CROSS JOIN LATERAL (
        SELECT a.analysis_id, a.output FROM public.analyses a
        WHERE a.tenant_id = (SELECT public.app_tenant_id()) AND a.pipeline = p_pipeline
          AND lower(a.repository) = lower(p_repository) AND a.sha = wanted.sha
        LIMIT 1
    ) AS found
$$;
