-- A job asks two questions of its tenant's history before it runs: was this commit analysed before (a
-- probe of analyses), and was this commit message seen before (a probe of message_results). Each must
-- reach its row through the key however many rows the tenant has; in bench/runtime.sh each read every
-- row of the tenant instead (12,000 rows per job after 12,000 jobs).

-- Row-level security lets an index use only leakproof conditions, and `lower(repository) = ...` is not
-- one: with `lower(repository)` third in the key, the probe read every analysis of the tenant's pipeline
-- in the index. With the sha third, the probe reaches its row and checks the repository there.
-- ON CONFLICT names the same columns, in any order.
CREATE UNIQUE INDEX analyses_commit_key_by_sha ON analyses (tenant_id, pipeline, sha, lower(repository));
DROP INDEX analyses_commit_key;
ALTER INDEX analyses_commit_key_by_sha RENAME TO analyses_commit_key;

-- Without statistics (a young deployment, before autovacuum has analysed the table) Postgres guesses that
-- each equality keeps 0.5 % of the rows: the recent-messages index on (tenant, pipeline, created_at)
-- then looked as selective as the key (tenant, pipeline, digest). Keyed by tenant alone (the pipeline is
-- a filter while the near-duplicate lookup reads a tenant's latest messages), it never matches as many
-- columns as the key.
DROP INDEX message_results_recent_idx;
CREATE INDEX message_results_recent_idx ON message_results (tenant_id, created_at DESC);
