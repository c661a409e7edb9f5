-- Every address a person is known by (their email and git emails, lowercased), one row each, so looking
-- a person up by address probes a key. Row-level security keeps operators that are not leakproof
-- (`= ANY(array)`, `&&`, `lower()`) out of index conditions: looking an address up in
-- `identities.git_emails` read the tenant's whole directory, for each job and each intervention
-- (5,000 rows and 5.5 ms per job with 5,000 people). Kept by a trigger on `identities`
-- (definitions/identity_addresses_sync.sql); a person's addresses go with them.
CREATE TABLE identity_addresses (
    tenant_id uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    address   text NOT NULL,
    email     text NOT NULL,
    PRIMARY KEY (tenant_id, address, email),
    FOREIGN KEY (tenant_id, email) REFERENCES identities (tenant_id, email) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX identity_addresses_person_idx ON identity_addresses (tenant_id, email);

-- The backfill reads every tenant's people: the table's own row-level security is lifted for this
-- transaction (whoever runs migrations owns the tables) and put back at the end.
ALTER TABLE identities NO FORCE ROW LEVEL SECURITY;
INSERT INTO identity_addresses (tenant_id, address, email)
SELECT DISTINCT i.tenant_id, lower(a.address), i.email
FROM identities i CROSS JOIN LATERAL unnest(array_append(i.git_emails, i.email)) AS a (address);
ALTER TABLE identities FORCE ROW LEVEL SECURITY;

ALTER TABLE identity_addresses ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity_addresses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identity_addresses
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, DELETE ON identity_addresses TO controlplane_app;
