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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

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
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
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

-- One rate-limit take for `p_tenant`, as one statement outside any transaction: it sets the tenant and
-- an asynchronous commit for its own implicit transaction only.
CREATE FUNCTION rate_limit_take(p_tenant uuid)
RETURNS TABLE (allowed boolean, requests_per_minute integer, burst integer, remaining integer,
               reset_seconds double precision, retry_after_seconds double precision)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_now      double precision := extract(epoch FROM clock_timestamp());
    v_rpm      integer;
    v_burst    integer;
    v_interval double precision;
    v_tat      double precision;
    v_allowed  boolean;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT l.requests_per_minute, l.burst INTO v_rpm, v_burst FROM rate_limits l WHERE l.tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_interval := 60.0 / v_rpm;
    INSERT INTO rate_limit_buckets AS b (tenant_id, tat, allowed) VALUES (p_tenant, v_now + v_interval, true)
    ON CONFLICT (tenant_id) DO UPDATE SET
        allowed = greatest(b.tat, v_now) + v_interval - v_now <= v_burst * v_interval + 1e-9,
        tat = CASE WHEN greatest(b.tat, v_now) + v_interval - v_now <= v_burst * v_interval + 1e-9
                   THEN greatest(b.tat, v_now) + v_interval ELSE b.tat END
    RETURNING b.tat, b.allowed INTO v_tat, v_allowed;
    IF v_allowed THEN
        RETURN QUERY SELECT true, v_rpm, v_burst,
            greatest(0, floor((v_burst * v_interval - (v_tat - v_now)) / v_interval + 1e-9))::integer,
            greatest(0, v_tat - v_now), 0::double precision;
    ELSE
        RETURN QUERY SELECT false, v_rpm, v_burst, 0, greatest(0, v_tat - v_now),
            greatest(0, v_tat + v_interval - v_burst * v_interval - v_now);
    END IF;
END;
$$;

-- The start and end of the budget period containing `p_at` in the time zone `p_zone`, calendar-aligned
-- (days at midnight, ISO weeks on Monday, months on the first).
CREATE FUNCTION budget_period_bounds(p_period text, p_zone text, p_at timestamptz,
                                     OUT period_start timestamptz, OUT period_end timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT date_trunc(p_period, p_at AT TIME ZONE p_zone) AT TIME ZONE p_zone,
           (date_trunc(p_period, p_at AT TIME ZONE p_zone) + ('1 ' || p_period)::interval) AT TIME ZONE p_zone
$$;

-- Reserves `p_tokens` for a provider call, or less under `degrade`, in one durable statement that refuses
-- to pass the limit: the period row is locked before its counters are read, so concurrent reservations
-- from any number of replicas can never together exceed `token_limit`. Under `degrade`, when the worst
-- case no longer fits but at least `p_minimum` tokens remain, the reservation takes what remains and
-- the caller shrinks the call to it. A refusal records the period's `exhausted` event once.
CREATE FUNCTION budget_reserve(p_tenant uuid, p_reservation uuid, p_tokens bigint, p_minimum bigint,
                               p_ttl_seconds integer, p_at timestamptz)
RETURNS TABLE (granted boolean, tokens bigint, period text, period_start timestamptz, period_end timestamptz,
               token_limit bigint, used bigint, reserved bigint, soft_limit_percent integer, on_exhausted text)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_at     timestamptz := COALESCE(p_at, now());
    v_budget budgets%ROWTYPE;
    v_zone   text;
    v_start  timestamptz;
    v_end    timestamptz;
    v_take   bigint := p_tokens;
    v_used   bigint;
    v_held   bigint;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    SELECT * INTO v_budget FROM budgets b WHERE b.tenant_id = p_tenant;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT t.timezone INTO v_zone FROM tenants t WHERE t.tenant_id = p_tenant;
    SELECT s.period_start, s.period_end INTO v_start, v_end
        FROM budget_period_bounds(v_budget.period, v_zone, v_at) s;
    INSERT INTO budget_periods (tenant_id, period, period_start, period_end)
        VALUES (p_tenant, v_budget.period, v_start, v_end) ON CONFLICT DO NOTHING;

    SELECT p.used, p.reserved INTO v_used, v_held FROM budget_periods p
        WHERE p.tenant_id = p_tenant AND p.period = v_budget.period AND p.period_start = v_start
        FOR UPDATE;
    IF v_used + v_held + v_take > v_budget.token_limit THEN
        v_take := CASE WHEN v_budget.on_exhausted = 'degrade'
                            AND v_budget.token_limit - v_used - v_held >= greatest(p_minimum, 1)
                       THEN v_budget.token_limit - v_used - v_held ELSE 0 END;
    END IF;
    IF v_take > 0 THEN
        v_held := v_held + v_take;
        UPDATE budget_periods p SET reserved = v_held
            WHERE p.tenant_id = p_tenant AND p.period = v_budget.period AND p.period_start = v_start;
        INSERT INTO budget_reservations (tenant_id, reservation_id, period, period_start, tokens, expires_at)
            VALUES (p_tenant, p_reservation, v_budget.period, v_start, v_take,
                    now() + make_interval(secs => p_ttl_seconds));
        RETURN QUERY SELECT true, v_take, v_budget.period, v_start, v_end, v_budget.token_limit, v_used, v_held,
            v_budget.soft_limit_percent, v_budget.on_exhausted;
        RETURN;
    END IF;

    INSERT INTO budget_events (tenant_id, period, period_start, kind, token_limit, used)
        VALUES (p_tenant, v_budget.period, v_start, 'exhausted', v_budget.token_limit, v_used)
        ON CONFLICT DO NOTHING;
    RETURN QUERY SELECT false, 0::bigint, v_budget.period, v_start, v_end, v_budget.token_limit, v_used, v_held,
        v_budget.soft_limit_percent, v_budget.on_exhausted;
END;
$$;

-- Appends one ledger row and charges its tokens (unless cached) to the period of `p_reservation` (or,
-- when it was already swept, to the period containing now); with `p_release`, the reservation ends in
-- the same transaction. Crossing the soft limit records the period's `threshold_crossed` event once.
-- Answers the ledger row's id and the period's counters after the charge.
CREATE FUNCTION budget_record_usage(
    p_tenant uuid, p_reservation uuid, p_release boolean, p_request_id text, p_job_id uuid, p_kind text,
    p_provider text, p_model text, p_prompt bigint, p_completion bigint, p_reasoning bigint, p_total bigint,
    p_cached boolean, p_cost_micros bigint)
RETURNS TABLE (record_id bigint, used bigint, reserved bigint, token_limit bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_budget budgets%ROWTYPE;
    v_zone   text;
    v_period text;
    v_start  timestamptz;
    v_end    timestamptz;
    v_held   bigint := 0;
    v_record bigint;
    v_used   bigint;
    v_res    bigint;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    SELECT * INTO v_budget FROM budgets b WHERE b.tenant_id = p_tenant;
    SELECT t.timezone INTO v_zone FROM tenants t WHERE t.tenant_id = p_tenant;
    IF p_reservation IS NOT NULL THEN
        IF p_release THEN
            DELETE FROM budget_reservations r WHERE r.tenant_id = p_tenant AND r.reservation_id = p_reservation
                RETURNING r.period, r.period_start, r.tokens INTO v_period, v_start, v_held;
        ELSE
            SELECT r.period, r.period_start, 0 INTO v_period, v_start, v_held FROM budget_reservations r
                WHERE r.tenant_id = p_tenant AND r.reservation_id = p_reservation;
        END IF;
    END IF;
    IF v_period IS NULL AND NOT p_cached THEN
        v_period := v_budget.period;
        SELECT s.period_start, s.period_end INTO v_start, v_end FROM budget_period_bounds(v_period, v_zone, now()) s;
        INSERT INTO budget_periods (tenant_id, period, period_start, period_end)
            VALUES (p_tenant, v_period, v_start, v_end) ON CONFLICT DO NOTHING;
        v_held := 0;
    END IF;

    INSERT INTO usage_records (tenant_id, usage_day, request_id, job_id, reservation_id, kind, provider, model,
                               prompt_tokens, completion_tokens, reasoning_tokens, total_tokens, cached,
                               cost_micros, period, period_start)
        VALUES (p_tenant, (now() AT TIME ZONE v_zone)::date, p_request_id, p_job_id, p_reservation, p_kind,
                p_provider, p_model, p_prompt, p_completion, p_reasoning, p_total, p_cached, p_cost_micros,
                CASE WHEN p_cached THEN NULL ELSE v_period END, CASE WHEN p_cached THEN NULL ELSE v_start END)
        RETURNING usage_records.record_id INTO v_record;

    IF v_period IS NOT NULL THEN
        UPDATE budget_periods p
            SET used = p.used + CASE WHEN p_cached THEN 0 ELSE p_total END, reserved = p.reserved - v_held
            WHERE p.tenant_id = p_tenant AND p.period = v_period AND p.period_start = v_start
            RETURNING p.used, p.reserved INTO v_used, v_res;
        IF v_period = v_budget.period
           AND v_used * 100 >= v_budget.token_limit * v_budget.soft_limit_percent THEN
            INSERT INTO budget_events (tenant_id, period, period_start, kind, token_limit, used)
                VALUES (p_tenant, v_period, v_start, 'threshold_crossed', v_budget.token_limit, v_used)
                ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN QUERY SELECT v_record, v_used, v_res, v_budget.token_limit;
END;
$$;

-- Ends a reservation without charging anything (the call failed and the provider billed nothing, or
-- the sweeper found its holder dead). Answers whether it was still open.
CREATE FUNCTION budget_release(p_tenant uuid, p_reservation uuid)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    v_period text;
    v_start  timestamptz;
    v_held   bigint;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    DELETE FROM budget_reservations r WHERE r.tenant_id = p_tenant AND r.reservation_id = p_reservation
        RETURNING r.period, r.period_start, r.tokens INTO v_period, v_start, v_held;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE budget_periods p SET reserved = p.reserved - v_held
        WHERE p.tenant_id = p_tenant AND p.period = v_period AND p.period_start = v_start;
    RETURN true;
END;
$$;

-- Each period's counters next to the ledger and the open reservations: every row must show
-- used = ledger_tokens and reserved = open_reservations.
CREATE VIEW budget_reconciliation WITH (security_invoker = true) AS
    SELECT p.tenant_id, p.period, p.period_start, p.used, p.reserved,
           COALESCE((SELECT sum(u.total_tokens) FROM usage_records u
                     WHERE u.tenant_id = p.tenant_id AND u.period = p.period AND u.period_start = p.period_start
                       AND NOT u.cached), 0)::bigint AS ledger_tokens,
           COALESCE((SELECT sum(r.tokens) FROM budget_reservations r
                     WHERE r.tenant_id = p.tenant_id AND r.period = p.period AND r.period_start = p.period_start),
                    0)::bigint AS open_reservations
    FROM budget_periods p;

-- Operator caps change only in an operator transaction; lowering a cap lowers the tenant's own
-- setting with it.
CREATE FUNCTION operator_set_rate_limit(target uuid, new_max_rpm integer, new_max_burst integer,
                                        new_rpm integer, new_burst integer)
RETURNS SETOF rate_limits
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF current_setting('app.operator', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'operator_set_rate_limit needs an operator transaction' USING ERRCODE = '42501';
    END IF;
    RETURN QUERY
        UPDATE rate_limits l SET
            max_requests_per_minute = new_max_rpm, max_burst = new_max_burst,
            requests_per_minute = least(COALESCE(new_rpm, l.requests_per_minute), new_max_rpm),
            burst = least(COALESCE(new_burst, l.burst), new_max_burst),
            updated_at = now()
        WHERE l.tenant_id = target
        RETURNING *;
END;
$$;
REVOKE ALL ON FUNCTION operator_set_rate_limit(uuid, integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION operator_set_rate_limit(uuid, integer, integer, integer, integer) TO controlplane_app;

CREATE FUNCTION operator_set_budget(target uuid, new_max bigint, new_period text, new_limit bigint,
                                    new_soft integer, new_on_exhausted text)
RETURNS SETOF budgets
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF current_setting('app.operator', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'operator_set_budget needs an operator transaction' USING ERRCODE = '42501';
    END IF;
    RETURN QUERY
        UPDATE budgets b SET
            max_token_limit = new_max,
            period = COALESCE(new_period, b.period),
            token_limit = least(COALESCE(new_limit, b.token_limit), new_max),
            soft_limit_percent = COALESCE(new_soft, b.soft_limit_percent),
            on_exhausted = COALESCE(new_on_exhausted, b.on_exhausted),
            updated_at = now()
        WHERE b.tenant_id = target
        RETURNING *;
END;
$$;
REVOKE ALL ON FUNCTION operator_set_budget(uuid, bigint, text, bigint, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION operator_set_budget(uuid, bigint, text, bigint, integer, text) TO controlplane_app;

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
GRANT SELECT ON budget_reconciliation TO controlplane_app;
