-- Two indexes for the passes every worker and relay make over open jobs, whatever the backlog.

-- The relay looks for tenants whose jobs were noted as sent to Redis a while ago and are still queued
-- (their stream may have lost them). With a long backlog every queued job is such a job, and reading
-- them all to find the distinct tenants cost ~60 ms per pass at 100,000 queued jobs. This index lets the
-- relay skip from tenant to tenant instead: one index probe per tenant, whatever the backlog.
CREATE INDEX jobs_sent_queued_idx ON jobs (tenant_id, enqueued_at) WHERE status = 'queued' AND enqueued_at IS NOT NULL;

-- The reaper looks for running jobs whose lease ran out, oldest first: ~40 ms per pass at 100,000 open
-- jobs without an index of its own, one probe with this one.
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE status = 'running';
