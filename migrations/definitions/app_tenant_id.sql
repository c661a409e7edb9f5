-- after: 0000
-- The tenant the transaction was opened for (`app.tenant_id`, set transaction-locally by the server before
-- any statement), or NULL when none was: every row-level security policy of a tenant table compares
-- `tenant_id` with it, so with no tenant set a query sees nothing. A plain STABLE SQL function, so the
-- planner inlines it and an index on `tenant_id` serves the policy as it served the expression itself.
CREATE OR REPLACE FUNCTION app_tenant_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;
