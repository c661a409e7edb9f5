-- after: 0024
CREATE OR REPLACE FUNCTION interventions_watch() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_zone text;
BEGIN
    IF NEW.pipeline <> 'commitments' OR jsonb_typeof(NEW.output -> 'commitments') IS DISTINCT FROM 'array' THEN
        RETURN NULL;
    END IF;
    SELECT i.timezone INTO v_zone FROM identities i
    WHERE i.tenant_id = NEW.tenant_id AND i.timezone IS NOT NULL
      AND lower(NEW.author_email) = ANY (array_append(i.git_emails, i.email))
    LIMIT 1;
    IF v_zone IS NULL THEN
        SELECT t.timezone INTO v_zone FROM tenants t WHERE t.tenant_id = NEW.tenant_id;
    END IF;
    v_zone := timezone_or_utc(v_zone);
    INSERT INTO interventions (tenant_id, analysis_id, commitment_index, repository, sha, author_email, committed_at,
                               commitment, due_date, due_at, next_check_at)
    SELECT NEW.tenant_id, NEW.analysis_id, (c.position - 1)::integer, NEW.repository, NEW.sha,
           lower(NEW.author_email), NEW.committed_at, left(c.item ->> 'text', 1000), d.due, d.due_at, d.due_at
    FROM jsonb_array_elements(NEW.output -> 'commitments') WITH ORDINALITY AS c (item, position)
    CROSS JOIN LATERAL (
        SELECT calendar_date_or_null(c.item ->> 'due_date') AS due,
               ((calendar_date_or_null(c.item ->> 'due_date') + 1)::timestamp AT TIME ZONE v_zone) AS due_at
    ) d
    WHERE d.due IS NOT NULL AND d.due_at > now() AND jsonb_typeof(c.item -> 'text') = 'string'
    ON CONFLICT (tenant_id, analysis_id, commitment_index) DO NOTHING;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS analyses_watch_commitments ON analyses;
CREATE TRIGGER analyses_watch_commitments AFTER INSERT ON analyses
    FOR EACH ROW EXECUTE FUNCTION interventions_watch();
