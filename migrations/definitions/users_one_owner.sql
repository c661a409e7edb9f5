-- after: 0015
-- A tenant always has exactly one owner: checked when each transaction that changes its users commits
-- (ownership moves in two updates, first the old owner's row, so two transfers at once serialise).
CREATE OR REPLACE FUNCTION users_one_owner() RETURNS trigger
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
DROP TRIGGER IF EXISTS users_one_owner ON users;
CREATE CONSTRAINT TRIGGER users_one_owner AFTER INSERT OR UPDATE OF role OR DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION users_one_owner();
