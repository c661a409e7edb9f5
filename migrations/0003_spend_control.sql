-- Spend control: per-tenant rate limits, token budgets with reservations, and the usage ledger.
--
-- Rate limits are a generic cell rate algorithm (GCRA) over one small row per tenant: requests arrive at
-- most `requests_per_minute` on average and `burst` at once, so any minute lets through at most
-- `requests_per_minute + burst`. The bucket rows are counters, not money: UNLOGGED and written with
-- `synchronous_commit = off`; a crash resets them to full buckets.
--
-- Budgets are money: a reservation, its counters and every ledger row commit durably and atomically.
-- `budget_periods.used` always equals the sum of the ledger's billed (not cached) tokens of that period,
-- and `reserved` the sum of the open reservations; `budget_reconciliation` shows both side by side.

-- The operator sets the caps; the tenant chooses its own limits at or below them.
CREATE TABLE rate_limits (
    tenant_id               uuid PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    requests_per_minute     integer NOT NULL DEFAULT 600 CHECK (requests_per_minute BETWEEN 1 AND 1000000),
    burst                   integer NOT NULL DEFAULT 100 CHECK (burst BETWEEN 1 AND 1000000),
    max_requests_per_minute integer NOT NULL DEFAULT 600 CHECK (max_requests_per_minute BETWEEN 1 AND 1000000),
    max_burst               integer NOT NULL DEFAULT 100 CHECK (max_burst BETWEEN 1 AND 1000000),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (requests_per_minute <= max_requests_per_minute AND burst <= max_burst)
);
ALTER TABLE rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rate_limits
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- `tat` is the theoretical arrival time of the next request (epoch seconds); `allowed` the outcome of
-- the last take, so one UPSERT both decides and reports.
CREATE UNLOGGED TABLE rate_limit_buckets (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    tat       double precision NOT NULL,
    allowed   boolean NOT NULL
) WITH (fillfactor = 50);
ALTER TABLE rate_limit_buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_buckets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rate_limit_buckets
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

CREATE TABLE budgets (
    tenant_id          uuid PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    period             text NOT NULL DEFAULT 'month' CHECK (period IN ('day', 'week', 'month')),
    token_limit        bigint NOT NULL DEFAULT 1000000 CHECK (token_limit BETWEEN 0 AND 1000000000000),
    soft_limit_percent integer NOT NULL DEFAULT 80 CHECK (soft_limit_percent BETWEEN 1 AND 100),
    on_exhausted       text NOT NULL DEFAULT 'block' CHECK (on_exhausted IN ('block', 'degrade')),
    max_token_limit    bigint NOT NULL DEFAULT 10000000 CHECK (max_token_limit BETWEEN 0 AND 1000000000000),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (token_limit <= max_token_limit)
);
ALTER TABLE budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE budgets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON budgets
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- The counters of one budget period, made on the first reservation in it.
CREATE TABLE budget_periods (
    tenant_id    uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    period       text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    used         bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    reserved     bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (tenant_id, period, period_start)
);
ALTER TABLE budget_periods ENABLE ROW LEVEL SECURITY;
ALTER TABLE budget_periods FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON budget_periods
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- Worst cases held for provider calls in flight. A reservation whose holder died is released by the
-- sweeper after `expires_at`.
CREATE TABLE budget_reservations (
    tenant_id      uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    reservation_id uuid NOT NULL,
    period         text NOT NULL,
    period_start   timestamptz NOT NULL,
    tokens         bigint NOT NULL CHECK (tokens >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, reservation_id),
    FOREIGN KEY (tenant_id, period, period_start) REFERENCES budget_periods (tenant_id, period, period_start)
);
CREATE INDEX budget_reservations_expires_idx ON budget_reservations (expires_at);
ALTER TABLE budget_reservations ENABLE ROW LEVEL SECURITY;
ALTER TABLE budget_reservations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON budget_reservations
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
-- The sweeper finds expired reservations across tenants, and nothing else.
CREATE POLICY maintenance_read ON budget_reservations FOR SELECT
    USING (current_setting('app.maintenance', true) = 'on' AND expires_at < now());

-- Crossing the soft limit and exhausting the budget, once per period each.
CREATE TABLE budget_events (
    tenant_id    uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    period       text NOT NULL,
    period_start timestamptz NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('threshold_crossed', 'exhausted')),
    token_limit  bigint NOT NULL,
    used         bigint NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, period, period_start, kind)
);
ALTER TABLE budget_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE budget_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON budget_events
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());

-- The ledger: one append-only row per provider attempt that was billed, and per cache hit (cached,
-- free). Budget periods are charged from these rows only.
CREATE TABLE usage_records (
    tenant_id         uuid NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    record_id         bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at       timestamptz NOT NULL DEFAULT now(),
    usage_day         date NOT NULL,
    request_id        text CHECK (octet_length(request_id) <= 200),
    job_id            uuid,
    reservation_id    uuid,
    kind              text NOT NULL CHECK (octet_length(kind) <= 64),
    provider          text NOT NULL CHECK (octet_length(provider) <= 64),
    model             text NOT NULL CHECK (octet_length(model) <= 200),
    prompt_tokens     bigint NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens bigint NOT NULL CHECK (completion_tokens >= 0),
    reasoning_tokens  bigint NOT NULL CHECK (reasoning_tokens >= 0),
    total_tokens      bigint NOT NULL CHECK (total_tokens >= 0),
    cached            boolean NOT NULL,
    cost_micros       bigint NOT NULL CHECK (cost_micros >= 0),
    period            text,
    period_start      timestamptz,
    PRIMARY KEY (tenant_id, record_id)
);
CREATE INDEX usage_records_day_idx ON usage_records (tenant_id, usage_day);
-- Operators' totals across tenants.
CREATE INDEX usage_records_platform_day_idx ON usage_records (usage_day);
CREATE INDEX usage_records_period_idx ON usage_records (tenant_id, period, period_start) WHERE NOT cached;
ALTER TABLE usage_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_records
    USING (tenant_id = app_tenant_id())
    WITH CHECK (tenant_id = app_tenant_id());
-- Operators read usage across tenants (never write it).
CREATE POLICY operator_read ON usage_records FOR SELECT
    USING (current_setting('app.operator', true) = 'on');

-- Prices per million tokens in micro-USD; operators override the shipped defaults with their own rows.
CREATE TABLE model_prices (
    provider                text NOT NULL,
    model                   text NOT NULL,
    input_micros_per_mtok   bigint NOT NULL CHECK (input_micros_per_mtok >= 0),
    output_micros_per_mtok  bigint NOT NULL CHECK (output_micros_per_mtok >= 0),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, model)
);

-- Every tenant has its limits and budget rows from the start (signup makes them for new tenants). Row
-- security binds the owner too, so the backfill lifts it for these three tables, inside the migration's
-- transaction.
ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY;
ALTER TABLE rate_limits NO FORCE ROW LEVEL SECURITY;
ALTER TABLE budgets NO FORCE ROW LEVEL SECURITY;
INSERT INTO rate_limits (tenant_id) SELECT tenant_id FROM tenants;
INSERT INTO budgets (tenant_id) SELECT tenant_id FROM tenants;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
ALTER TABLE rate_limits FORCE ROW LEVEL SECURITY;
ALTER TABLE budgets FORCE ROW LEVEL SECURITY;

GRANT SELECT, INSERT ON rate_limits TO controlplane_app;
GRANT UPDATE (requests_per_minute, burst, updated_at) ON rate_limits TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON rate_limit_buckets TO controlplane_app;
GRANT SELECT, INSERT ON budgets TO controlplane_app;
GRANT UPDATE (period, token_limit, soft_limit_percent, on_exhausted, updated_at) ON budgets TO controlplane_app;
GRANT SELECT, INSERT, UPDATE ON budget_periods TO controlplane_app;
GRANT SELECT, INSERT, DELETE ON budget_reservations TO controlplane_app;
GRANT SELECT, INSERT ON budget_events TO controlplane_app;
GRANT SELECT, INSERT ON usage_records TO controlplane_app;
GRANT SELECT ON model_prices TO controlplane_app;
