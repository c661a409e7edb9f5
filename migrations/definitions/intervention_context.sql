-- after: 0028
-- What the intervention scheduler reads of a claimed row, in one round trip (it was a transaction of up to
-- eight): the row (if still in `p_status`), the tenant's intervention settings (defaults when it has none),
-- the owner's chat handle and manager and the manager's handle, each by address (`identity_probe`), and for a
-- watched commitment the author's later commitment commits in the repository (sha and subject, oldest first,
-- at most 500), among which the scheduler looks for one that closes the promise. Runs under the tenant's
-- row-level security, as the statements it replaced. No row: the intervention moved on since its claim.
CREATE OR REPLACE FUNCTION intervention_context(p_tenant uuid, p_intervention uuid, p_status text)
RETURNS TABLE (repository text, sha text, author_email text, committed_at timestamptz, commitment text,
               due_date text, row_manager_email text, enabled boolean, tone text,
               escalation_delay_seconds integer, slack_configured boolean, settings_updated_at timestamptz,
               owner_handle text, owner_manager text, manager_handle text, later_shas text[],
               later_subjects text[])
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    v_row     interventions%ROWTYPE;
    v_manager text;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    SELECT * INTO v_row FROM interventions i
        WHERE i.tenant_id = p_tenant AND i.intervention_id = p_intervention AND i.status = p_status;
    IF NOT FOUND THEN
        PERFORM set_config('app.tenant_id', '', true);
        RETURN;
    END IF;
    repository := v_row.repository;
    sha := v_row.sha;
    author_email := v_row.author_email;
    committed_at := v_row.committed_at;
    commitment := v_row.commitment;
    due_date := v_row.due_date::text;
    row_manager_email := v_row.manager_email;
    SELECT s.enabled, s.tone, s.escalation_delay_seconds, s.slack_webhook_sealed IS NOT NULL, s.updated_at
        INTO enabled, tone, escalation_delay_seconds, slack_configured, settings_updated_at
        FROM intervention_settings s WHERE s.tenant_id = p_tenant;
    IF NOT FOUND THEN
        enabled := true;
        tone := 'friendly';
        escalation_delay_seconds := 172800;
        slack_configured := false;
    END IF;
    IF v_row.author_email IS NOT NULL THEN
        SELECT p.chat_handle, p.manager_email INTO owner_handle, owner_manager
            FROM identity_probe(ARRAY[lower(v_row.author_email)]) AS p;
    END IF;
    v_manager := CASE WHEN p_status = 'watching' THEN owner_manager ELSE v_row.manager_email END;
    IF v_manager IS NOT NULL THEN
        SELECT p.chat_handle INTO manager_handle FROM identity_probe(ARRAY[lower(v_manager)]) AS p;
    END IF;
    IF p_status = 'watching' AND v_row.author_email IS NOT NULL THEN
        SELECT coalesce(array_agg(later.sha ORDER BY later.committed_at), '{}'),
               coalesce(array_agg(later.subject ORDER BY later.committed_at), '{}')
            INTO later_shas, later_subjects
            FROM (SELECT a.sha, a.subject, a.committed_at FROM analyses a
                  WHERE a.tenant_id = p_tenant AND a.pipeline = 'commitments'
                    AND lower(a.repository) = lower(v_row.repository)
                    AND lower(a.author_email) = lower(v_row.author_email)
                    AND a.committed_at > coalesce(v_row.committed_at, '-infinity'::timestamptz)
                    AND a.sha <> v_row.sha AND a.subject IS NOT NULL
                  ORDER BY a.committed_at LIMIT 500) AS later;
    END IF;
    PERFORM set_config('app.tenant_id', '', true);
    RETURN NEXT;
END;
$$;
