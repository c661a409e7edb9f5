-- A replica may take several requests of a hot tenant from its bucket at once and hand them out itself
-- (definitions/rate_limit_lease.sql): the bucket row says how many its last update granted.
ALTER TABLE rate_limit_buckets ADD COLUMN granted integer NOT NULL DEFAULT 0;
