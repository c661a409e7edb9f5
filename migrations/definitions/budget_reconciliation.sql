-- after: 0014
-- The reconciliation counts pruned detail through its daily totals.
CREATE OR REPLACE VIEW budget_reconciliation WITH (security_invoker = true) AS
    SELECT p.tenant_id, p.period, p.period_start, p.used, p.reserved,
           (COALESCE((SELECT sum(u.total_tokens) FROM usage_records u
                      WHERE u.tenant_id = p.tenant_id AND u.period = p.period AND u.period_start = p.period_start
                        AND NOT u.cached), 0)
            + COALESCE((SELECT sum(d.total_tokens) FROM usage_daily d
                        WHERE d.tenant_id = p.tenant_id AND d.period = p.period AND d.period_start = p.period_start
                          AND NOT d.cached), 0))::bigint AS ledger_tokens,
           COALESCE((SELECT sum(r.tokens) FROM budget_reservations r
                     WHERE r.tenant_id = p.tenant_id AND r.period = p.period AND r.period_start = p.period_start),
                    0)::bigint AS open_reservations
    FROM budget_periods p;
GRANT SELECT ON budget_reconciliation TO controlplane_app;
