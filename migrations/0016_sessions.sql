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
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT ON sessions TO controlplane_app;
GRANT UPDATE (generation, refreshed_at, idle_expires_at, ended_at, end_reason) ON sessions TO controlplane_app;
