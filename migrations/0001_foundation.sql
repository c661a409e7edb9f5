-- Tenants, users, API keys, signing keys, audit log, idempotency records and throttles.
--
-- Every tenant table has `tenant_id` first in its primary key and every index, RLS enabled and forced,
-- and a policy with USING and WITH CHECK on the transaction-local setting `app.tenant_id`. With no
-- tenant set, NULLIF turns the empty setting into NULL, the comparison is never true, and a query sees
-- nothing. The application role `controlplane_app` (created by the deployment, never owner, superuser or
-- BYPASSRLS) only gets the privileges granted at the end of this file.

CREATE TABLE tenants (
    tenant_id   uuid PRIMARY KEY,
    slug        text NOT NULL,
    name        text NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    plan        text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'team', 'enterprise')),
    timezone    text NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE INDEX tenants_created_idx ON tenants (created_at DESC, tenant_id DESC);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
-- Operators list and change tenants across the platform: the operator flag is set per transaction by
-- the server only after it verified an operator token, exactly like the tenant id.
CREATE POLICY tenant_isolation ON tenants
    USING (tenant_id = app_tenant_id()
           OR current_setting('app.operator', true) = 'on')
    WITH CHECK (tenant_id = app_tenant_id()
           OR current_setting('app.operator', true) = 'on');

CREATE TABLE users (
    tenant_id        uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    user_id          uuid NOT NULL,
    email            text NOT NULL,
    email_normalized text NOT NULL,
    password_hash    text NOT NULL,
    role             text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE UNIQUE INDEX users_email_key ON users (tenant_id, email_normalized);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- Emails are unique across the platform and login happens before the tenant is known, so this
-- directory maps a normalised email to its tenant and user. Anyone may read a row (it holds no secret);
-- rows are written and deleted only inside the owning tenant's transaction.
CREATE TABLE login_directory (
    email_normalized text PRIMARY KEY,
    tenant_id        uuid NOT NULL,
    user_id          uuid NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
);
ALTER TABLE login_directory ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_directory FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_read ON login_directory FOR SELECT USING (true);
CREATE POLICY directory_insert ON login_directory FOR INSERT
    WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY directory_delete ON login_directory FOR DELETE
    USING (tenant_id = app_tenant_id());

CREATE TABLE api_keys (
    tenant_id      uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    key_id         uuid NOT NULL,
    name           text NOT NULL,
    scopes         text[] NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    last_used_at   timestamptz,
    rotated_to     uuid,
    PRIMARY KEY (tenant_id, key_id)
);
CREATE INDEX api_keys_created_idx ON api_keys (tenant_id, created_at DESC, key_id DESC);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

CREATE TABLE audit_events (
    tenant_id    uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    event_id     bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    actor_type   text NOT NULL CHECK (actor_type IN ('api_key', 'user', 'operator')),
    actor_id     text NOT NULL,
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    text NOT NULL,
    request_id   text,
    PRIMARY KEY (tenant_id, event_id)
);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- Stored answers of creating calls made with an `Idempotency-Key`, encrypted (they hold tokens).
CREATE TABLE idempotency_records (
    tenant_id      uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    idem_key       text NOT NULL,
    operation      text NOT NULL,
    request_hash   bytea NOT NULL,
    status_code    integer NOT NULL,
    response_sealed bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, operation, idem_key)
);
ALTER TABLE idempotency_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_records
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- Signup happens before any tenant exists, so its idempotency records are platform-wide. A replay
-- must present the same body (password included) to see the stored answer.
CREATE TABLE signup_idempotency_records (
    idem_key        text PRIMARY KEY,
    request_hash    bytea NOT NULL,
    status_code     integer NOT NULL,
    response_sealed bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Fixed-window counters for unauthenticated throttles (signup per client address, login per email).
-- Subjects are SHA-256 digests, so no address or email is stored in clear here.
CREATE TABLE throttle_windows (
    scope         text NOT NULL,
    subject_hash  bytea NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL,
    PRIMARY KEY (scope, subject_hash)
);

-- Token signing keys shared by every replica; private keys sealed with CP_MASTER_KEY (AES-GCM).
CREATE TABLE signing_keys (
    kid                text PRIMARY KEY,
    algorithm          text NOT NULL CHECK (algorithm = 'EdDSA'),
    public_key         bytea NOT NULL,
    private_key_sealed bytea NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    retired_at         timestamptz
);

GRANT SELECT, INSERT, UPDATE ON tenants TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON users TO controlplane_app;
GRANT SELECT, INSERT, DELETE ON login_directory TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON api_keys TO controlplane_app;
GRANT SELECT, INSERT ON audit_events TO controlplane_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_records TO controlplane_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON signup_idempotency_records TO controlplane_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON throttle_windows TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON signing_keys TO controlplane_app;
