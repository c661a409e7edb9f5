-- after: 0020
CREATE OR REPLACE FUNCTION people_prune(p_tenant uuid, p_before timestamptz, p_batch integer)
RETURNS TABLE (sessions integer, invitations integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_sessions integer;
    v_invitations integer;
BEGIN
    IF p_batch IS NULL OR p_batch < 1 OR p_batch > 10000 THEN
        RAISE EXCEPTION 'batch must be between 1 and 10000' USING ERRCODE = '22023';
    END IF;
    IF p_tenant IS NULL OR p_before IS NULL THEN
        RAISE EXCEPTION 'tenant and cutoff are required' USING ERRCODE = '22023';
    END IF;
    -- Only what has ended by now goes, whatever cutoff the caller names: a session still live or an
    -- invitation still open is never deleted.
    p_before := LEAST(p_before, now());
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    WITH doomed AS (
        SELECT session_id FROM sessions
        WHERE tenant_id = p_tenant
          AND LEAST(COALESCE(ended_at, 'infinity'), idle_expires_at, absolute_expires_at) < p_before
        LIMIT p_batch FOR UPDATE SKIP LOCKED)
    DELETE FROM sessions s USING doomed d WHERE s.tenant_id = p_tenant AND s.session_id = d.session_id;
    GET DIAGNOSTICS v_sessions = ROW_COUNT;
    WITH doomed AS (
        SELECT invitation_id FROM invitations
        WHERE tenant_id = p_tenant AND COALESCE(accepted_at, revoked_at, expires_at) < p_before
        LIMIT p_batch FOR UPDATE SKIP LOCKED)
    DELETE FROM invitations i USING doomed d WHERE i.tenant_id = p_tenant AND i.invitation_id = d.invitation_id;
    GET DIAGNOSTICS v_invitations = ROW_COUNT;
    RETURN QUERY SELECT v_sessions, v_invitations;
END;
$$;
REVOKE ALL ON FUNCTION people_prune(uuid, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION people_prune(uuid, timestamptz, integer) TO controlplane_app;
