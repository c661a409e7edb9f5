-- Sign in with GitHub (OAuth web flow with PKCE). A started sign-in is one row: the SHA-256 of its
-- `state`, and its PKCE code verifier sealed with the master key. The callback consumes the row in one
-- statement (unused and unexpired, or nothing), so a state works once and a replayed callback fails.
-- A platform table: no tenant is known until GitHub has named the email.
CREATE TABLE oauth_states (
    state_hash      bytea PRIMARY KEY CHECK (octet_length(state_hash) = 32),
    verifier_sealed bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);
CREATE INDEX oauth_states_expiry_idx ON oauth_states (expires_at);
GRANT SELECT, INSERT, DELETE ON oauth_states TO controlplane_app;
GRANT UPDATE (used_at) ON oauth_states TO controlplane_app;
