-- Every policy compares `tenant_id` with `app_tenant_id()` (definitions/app_tenant_id.sql) rather than
-- spelling out `NULLIF(current_setting('app.tenant_id', true), '')::uuid`. A database migrated before the
-- migrations were rewritten that way still has the spelled-out expression in its policies: this rewrites
-- each such policy in place, so every database ends with the same policies. On a database migrated from
-- the rewritten files it finds nothing to do.
DO $$
DECLARE
    p record;
    spelled constant text := '\(NULLIF\(current_setting\(''app\.tenant_id''::text, true\), ''''::text\)\)::uuid';
    rewritten text;
BEGIN
    FOR p IN
        SELECT schemaname, tablename, policyname, qual, with_check FROM pg_policies
        WHERE schemaname = 'public'
          AND (qual ~ spelled OR with_check ~ spelled)
    LOOP
        rewritten := format('ALTER POLICY %I ON %I.%I', p.policyname, p.schemaname, p.tablename);
        IF p.qual IS NOT NULL THEN
            rewritten := rewritten || format(' USING (%s)', regexp_replace(p.qual, spelled, 'app_tenant_id()', 'g'));
        END IF;
        IF p.with_check IS NOT NULL THEN
            rewritten := rewritten
                || format(' WITH CHECK (%s)', regexp_replace(p.with_check, spelled, 'app_tenant_id()', 'g'));
        END IF;
        EXECUTE rewritten;
    END LOOP;
END;
$$;
