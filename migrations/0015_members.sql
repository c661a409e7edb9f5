-- Members: invitations, role changes and removal.
--
-- An invitation names an email and a role (never `owner`: ownership moves only by transfer). Its token
-- is `cpinv_` + the tenant id, the invitation id and a random secret; only the SHA-256 of the secret is
-- kept, and the token reaches the invitee once through the tenant's notification URL (sealed at rest
-- until it is sent) and once in the answer to the call that made it.

CREATE TABLE invitations (
    tenant_id        uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    invitation_id    uuid NOT NULL,
    email            text NOT NULL CHECK (octet_length(email) <= 254),
    email_normalized text NOT NULL,
    role             text NOT NULL CHECK (role IN ('admin', 'member')),
    secret_hash      bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
    invited_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    accepted_at      timestamptz,
    accepted_user_id uuid,
    revoked_at       timestamptz,
    PRIMARY KEY (tenant_id, invitation_id)
);
CREATE INDEX invitations_created_idx ON invitations (tenant_id, created_at DESC, invitation_id DESC);
-- One open invitation per email and tenant: inviting again replaces the open one.
CREATE UNIQUE INDEX invitations_open_email_key ON invitations (tenant_id, email_normalized)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT ON invitations TO controlplane_app;
GRANT UPDATE (accepted_at, accepted_user_id, revoked_at) ON invitations TO controlplane_app;

-- A secret an event carries (an invitation token), sealed with the master key and bound to the event;
-- the sender opens it into the payload it signs, and it is erased once the event is delivered or
-- given up. `payload` itself never holds it, so the notification log and backups of it do not.
ALTER TABLE notification_events ADD COLUMN sealed_secret bytea;

-- Removing a member: the app role may delete users (their directory entry goes with them).
GRANT DELETE ON users TO controlplane_app;
REVOKE UPDATE ON users FROM controlplane_app;
GRANT UPDATE (role, password_hash) ON users TO controlplane_app;

-- The audit log names the client address of calls made over HTTP and what a change changed.
ALTER TABLE audit_events ADD COLUMN client_address text CHECK (octet_length(client_address) <= 64),
                         ADD COLUMN details jsonb NOT NULL DEFAULT '{}';
