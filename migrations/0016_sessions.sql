-- Sessions: a sign-in (password, invitation or GitHub) is a session with a rotating refresh token.
--
-- The refresh token of generation n is `cprt_` + the tenant id, the session id, n and
-- HMAC-SHA256(seed, n); the seed is sealed with the master key, bound to the session. So every token a
-- session ever issued can be recognised, and presenting one older than the current generation is reuse:
-- the whole session ends (OAuth 2.0 Security BCP, refresh token rotation). A session ends after
-- `idle` without a refresh or at `absolute_expires_at`, whichever comes first.

CREATE TABLE sessions (
    tenant_id           uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    session_id          uuid NOT NULL,
    user_id             uuid NOT NULL,
    method              text NOT NULL CHECK (method IN ('password', 'invitation', 'github')),
    seed_sealed         bytea NOT NULL,
    generation          integer NOT NULL DEFAULT 0 CHECK (generation >= 0),
    created_at          timestamptz NOT NULL,
    refreshed_at        timestamptz NOT NULL,
    idle_expires_at     timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    ended_at            timestamptz,
    end_reason          text CHECK (end_reason IN ('logout', 'reuse', 'removed', 'expired')),
    client_address      text CHECK (octet_length(client_address) <= 64),
    PRIMARY KEY (tenant_id, session_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);
-- Housekeeping deletes sessions long over.
CREATE INDEX sessions_over_idx ON sessions (absolute_expires_at);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT ON sessions TO controlplane_app;
GRANT UPDATE (generation, refreshed_at, idle_expires_at, ended_at, end_reason) ON sessions TO controlplane_app;

-- Retention: sessions and invitations over before the tenant's detail cutoff go, in batches, through
-- this function (the application role may not delete them otherwise).
CREATE FUNCTION people_prune(p_tenant uuid, p_before timestamptz, p_batch integer)
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
