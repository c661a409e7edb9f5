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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT ON invitations TO controlplane_app;
GRANT UPDATE (accepted_at, accepted_user_id, revoked_at) ON invitations TO controlplane_app;

-- A secret an event carries (an invitation token), sealed with the master key and bound to the event;
-- the sender opens it into the payload it signs, and it is erased once the event is delivered or
-- given up. `payload` itself never holds it, so the notification log and backups of it do not.
ALTER TABLE notification_events ADD COLUMN sealed_secret bytea;

-- One way to queue an event: with the event's id (a sealed secret is bound to it) and the secret; the
-- three-argument form the triggers use goes through it. Answers whether the tenant's URL takes the type.
CREATE FUNCTION notification_emit(p_tenant uuid, p_type text, p_data jsonb, p_event uuid, p_sealed bytea)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO notification_events (tenant_id, event_id, type, payload, sealed_secret)
    SELECT p_tenant, p_event, p_type,
           jsonb_build_object('type', p_type, 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                              'data', p_data),
           p_sealed
    FROM notification_settings s
    WHERE s.tenant_id = p_tenant AND s.active AND p_type = ANY(s.events);
    RETURN FOUND;
END;
$$;
CREATE OR REPLACE FUNCTION notification_emit(p_tenant uuid, p_type text, p_data jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM notification_emit(p_tenant, p_type, p_data, gen_random_uuid(), NULL::bytea);
END;
$$;

-- Removing a member: the app role may delete users (their directory entry goes with them).
GRANT DELETE ON users TO controlplane_app;
REVOKE UPDATE ON users FROM controlplane_app;
GRANT UPDATE (role, password_hash) ON users TO controlplane_app;

-- A tenant always has exactly one owner: checked when each transaction that changes its users commits
-- (ownership moves in two updates, first the old owner's row, so two transfers at once serialise).
CREATE FUNCTION users_one_owner() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_tenant uuid := COALESCE(NEW.tenant_id, OLD.tenant_id);
    v_owners integer;
BEGIN
    SELECT count(*) FILTER (WHERE role = 'owner') INTO v_owners FROM users WHERE tenant_id = v_tenant HAVING count(*) > 0;
    IF FOUND AND v_owners <> 1 THEN
        RAISE EXCEPTION 'a tenant must have exactly one owner (it would have %)', v_owners
            USING ERRCODE = '23514', CONSTRAINT = 'users_one_owner';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER users_one_owner AFTER INSERT OR UPDATE OF role OR DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION users_one_owner();

-- The audit log names the client address of calls made over HTTP and what a change changed.
ALTER TABLE audit_events ADD COLUMN client_address text CHECK (octet_length(client_address) <= 64),
                         ADD COLUMN details jsonb NOT NULL DEFAULT '{}';
