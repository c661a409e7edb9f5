-- Retention: a tenant's deliveries, jobs, usage detail and sent notifications older than its plan's
-- retention are pruned in batches by the workers; its audit events after a longer period of their own.
-- Usage detail is folded into daily totals before it goes, so usage by day and the budget
-- reconciliation answer the same forever.

-- Daily usage totals of pruned usage records, by provider, model, cached or not, and budget period.
CREATE TABLE usage_daily (
    tenant_id         uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    usage_day         date NOT NULL,
    provider          text NOT NULL,
    model             text NOT NULL,
    cached            boolean NOT NULL,
    period            text,
    period_start      timestamptz,
    calls             bigint NOT NULL CHECK (calls >= 0),
    prompt_tokens     bigint NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens bigint NOT NULL CHECK (completion_tokens >= 0),
    reasoning_tokens  bigint NOT NULL CHECK (reasoning_tokens >= 0),
    total_tokens      bigint NOT NULL CHECK (total_tokens >= 0),
    cost_micros       bigint NOT NULL CHECK (cost_micros >= 0)
);
CREATE UNIQUE INDEX usage_daily_key ON usage_daily
    (tenant_id, usage_day, provider, model, cached, period, period_start) NULLS NOT DISTINCT;
CREATE INDEX usage_daily_period_idx ON usage_daily (tenant_id, period, period_start) WHERE NOT cached;
CREATE INDEX usage_daily_platform_day_idx ON usage_daily (usage_day);
ALTER TABLE usage_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_daily
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY operator_read ON usage_daily FOR SELECT
    USING (current_setting('app.operator', true) = 'on');

-- The pruner walks every tenant's oldest rows; audit events had no index that starts with the time.
CREATE INDEX audit_events_age_idx ON audit_events (tenant_id, occurred_at);
CREATE INDEX notification_events_age_idx ON notification_events (tenant_id, created_at)
    WHERE status IN ('delivered', 'failed');

GRANT SELECT ON usage_daily TO controlplane_app;
