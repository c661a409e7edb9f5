-- after: 0028
-- Keeps `identity_addresses` equal to each person's email and git emails (lowercased): a person written
-- gets exactly their addresses again; a person removed loses theirs through the foreign key. Runs as the
-- writer, under the same tenant's row-level security.
CREATE OR REPLACE FUNCTION identity_addresses_sync() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    DELETE FROM identity_addresses a WHERE a.tenant_id = NEW.tenant_id AND a.email = NEW.email;
    INSERT INTO identity_addresses (tenant_id, address, email)
    SELECT DISTINCT NEW.tenant_id, lower(x.address), NEW.email
    FROM unnest(array_append(NEW.git_emails, NEW.email)) AS x (address);
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS identities_addresses ON identities;
CREATE TRIGGER identities_addresses AFTER INSERT OR UPDATE OF email, git_emails ON identities
    FOR EACH ROW EXECUTE FUNCTION identity_addresses_sync();
