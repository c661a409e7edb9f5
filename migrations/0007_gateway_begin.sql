-- A gateway call whose policy and credentials a replica already holds begins in one statement: it checks
-- that what the replica holds is still current (policy version and a digest of the credentials), counts
-- the call against the hourly cap, works out budget pressure and reserves the worst case. A call then
-- costs three round trips to Postgres (rate limit, begin, record) instead of four, and the replica
-- decodes the policy and opens the credentials once per change instead of once per call.

-- Two reads shared by `llm_call_plan` and `llm_call_begin`, written so that Postgres inlines them into
-- their callers (LANGUAGE sql, STABLE, one SELECT, no SET clause, so every name is schema-qualified
-- instead): called as functions, each cost ~0.1 ms here.

-- `llm_call_plan` of 0005, answering the credentials' digest as well, so a replica knows what it holds.
DROP FUNCTION IF EXISTS llm_call_plan(uuid, bytea, double precision);
