-- Hardening of the foundation: idempotency records per caller and pruned after a day, throttle rows
-- that expire, an audit actor for the platform itself, signing keys that activate and retire on a
-- schedule, revocable operator tokens, and column grants that keep a tenant from changing its own
-- status or plan.

-- Idempotency records belong to the caller (the key or user that sent the request), not to the whole
-- tenant: another caller replaying the same Idempotency-Key creates its own object.
ALTER TABLE idempotency_records ADD COLUMN caller text NOT NULL DEFAULT '';
ALTER TABLE idempotency_records ALTER COLUMN caller DROP DEFAULT;
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_pkey;
ALTER TABLE idempotency_records ADD PRIMARY KEY (tenant_id, caller, operation, idem_key);
ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_key_length CHECK (octet_length(idem_key) <= 255);
CREATE INDEX idempotency_records_created_idx ON idempotency_records (tenant_id, created_at);
ALTER TABLE signup_idempotency_records ADD CONSTRAINT signup_idempotency_key_length
    CHECK (octet_length(idem_key) <= 255);
CREATE INDEX signup_idempotency_records_created_idx ON signup_idempotency_records (created_at);

-- Pruning runs as the application role with `app.maintenance` set for its transaction; these policies
-- let it see and delete only records older than a day, whatever else it asks for (a DELETE with a WHERE
-- clause needs the rows to be visible too).
CREATE POLICY maintenance_prune ON idempotency_records FOR DELETE
    USING (current_setting('app.maintenance', true) = 'on' AND created_at < now() - interval '24 hours');
CREATE POLICY maintenance_read ON idempotency_records FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on' AND created_at < now() - interval '24 hours');

-- Throttle rows carry their own end, so expired ones can be pruned whatever their window.
ALTER TABLE throttle_windows ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX throttle_windows_expires_idx ON throttle_windows (expires_at);

-- The worker and webhook ingest write audit events as `system`.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check
    CHECK (actor_type IN ('api_key', 'user', 'operator', 'system'));
-- Audit pages are keyed on (occurred_at, event_id) like every other list.
CREATE INDEX audit_events_occurred_idx ON audit_events (tenant_id, occurred_at DESC, event_id DESC);

-- A rotated-in signing key is published for verification at once and signs only from `activates_at`,
-- when every replica has loaded it; a retired key stops verifying at `retired_at`.
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz NOT NULL DEFAULT now();
UPDATE signing_keys SET activates_at = created_at;

-- Operator tokens named here are refused until they would have expired anyway.
CREATE TABLE operator_token_denylist (
    jti         text PRIMARY KEY CHECK (octet_length(jti) <= 64),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz NOT NULL DEFAULT now()
);

-- Least privilege: the application never updates signing keys (rotation is an owner-role command) and
-- a tenant transaction may change only its tenant's name and timezone. Status and plan change through
-- `operator_update_tenant`, which refuses to run outside an operator transaction.
REVOKE UPDATE ON signing_keys FROM controlplane_app;
REVOKE UPDATE ON tenants FROM controlplane_app;
GRANT UPDATE (name, timezone, updated_at) ON tenants TO controlplane_app;
GRANT SELECT ON operator_token_denylist TO controlplane_app;

-- No temporary tables for the application role, whatever the deployment granted on the database.
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM controlplane_app', current_database());
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END;
$$;
