#!/usr/bin/env bash
# Retention pruning: one tenant with ROWS usage records (default 200,000) and ROWS/2 deliveries, each
# with a finished job, and ROWS/4 audit events, all 400 days old; `controlplane retention prune` (release
# build) removes them in batches of 1,000 per kind and transaction, folding the usage records into daily
# totals. Prints rows per second and the mean time of one batch transaction, next to the baseline
# measured in the same run on the same rows: bare DELETEs of everything in one statement per table (no
# batches, no roll-up), the least Postgres can do to remove them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

ROWS=${ROWS:-200000}
bench_services

bench_binary
superuser() { runuser -u postgres -- psql -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -d controlplane -qAt "$@"; }

CP_LOG_LEVEL=warning $binary migrate
port=$(free_port)
CP_HTTP_PORT=$port CP_WORKER_CONCURRENCY=0 CP_LOG_LEVEL=warning $binary serve > "$data/server.log" 2>&1 & pids+=($!)
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
slug="bench-$RANDOM$RANDOM"
tenant=$(curl -fs -X POST "http://127.0.0.1:$port/v1/signup" -H 'content-type: application/json' \
    -d "{\"organization_name\":\"Bench\",\"slug\":\"$slug\",\"admin_email\":\"$slug@example.test\",\"admin_password\":\"correct horse battery\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["tenant"]["id"])')
stop_processes "${pids[@]}"
pids=()

# seed: ROWS old usage records, ROWS/2 old deliveries with a succeeded job each, ROWS/4 old audit events.
seed() {
    superuser <<SQL
BEGIN;
INSERT INTO webhook_deliveries (tenant_id, delivery_id, endpoint_id, github_delivery, event, status, content_type,
                                body, job_count, received_at, updated_at)
SELECT '$tenant', md5('d' || g)::uuid, '00000000-0000-0000-0000-000000000001', 'gh-' || g, 'push', 'processed',
       'application/json', '\x7b7d'::bytea, 1, now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, $ROWS / 2) g;
INSERT INTO jobs (tenant_id, job_id, delivery_id, pipeline, status, attempts, max_attempts, created_at, updated_at,
                  finished_at)
SELECT '$tenant', md5('j' || g)::uuid, md5('d' || g)::uuid, 'commitments', 'succeeded', 1, 5,
       now() - interval '400 days', now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, $ROWS / 2) g;
INSERT INTO usage_records (tenant_id, occurred_at, usage_day, kind, provider, model, prompt_tokens,
                           completion_tokens, reasoning_tokens, total_tokens, cached, cost_micros, period, period_start)
SELECT '$tenant', now() - interval '400 days' - (g % 30) * interval '1 day',
       (now() - interval '400 days' - (g % 30) * interval '1 day')::date, 'commitments', 'mock',
       'mock-' || (g % 3), 100, 20, 0, 120, g % 10 = 0, 30, 'monthly', date_trunc('month', now() - interval '400 days')
FROM generate_series(1, $ROWS) g;
INSERT INTO audit_events (tenant_id, occurred_at, actor_type, actor_id, action, target_type, target_id)
SELECT '$tenant', now() - interval '400 days', 'user', 'bench', 'bench.event', 'bench', g::text
FROM generate_series(1, $ROWS / 4) g;
COMMIT;
VACUUM ANALYZE webhook_deliveries, jobs, usage_records, audit_events;
SQL
}
now_ms() { date +%s%3N; }
total=$((ROWS + ROWS / 2 + ROWS / 2 + ROWS / 4))

log "seeding $total rows (baseline)"
seed
start=$(now_ms)
superuser <<SQL
DELETE FROM jobs WHERE tenant_id = '$tenant';
DELETE FROM webhook_deliveries WHERE tenant_id = '$tenant';
DELETE FROM usage_records WHERE tenant_id = '$tenant';
DELETE FROM audit_events WHERE tenant_id = '$tenant' AND action = 'bench.event';
SQL
bare_ms=$(( $(now_ms) - start ))

log "seeding $total rows (pruner)"
seed
start=$(now_ms)
answer=$(CP_LOG_LEVEL=warning $binary retention prune --tenant "$tenant")
pruner_ms=$(( $(now_ms) - start ))
echo "$answer"
left=$(superuser -c "SELECT (SELECT count(*) FROM usage_records WHERE tenant_id = '$tenant')
    + (SELECT count(*) FROM jobs WHERE tenant_id = '$tenant')
    + (SELECT count(*) FROM webhook_deliveries WHERE tenant_id = '$tenant')
    + (SELECT count(*) FROM audit_events WHERE tenant_id = '$tenant' AND action = 'bench.event')")
folded=$(superuser -c "SELECT sum(calls) FROM usage_daily WHERE tenant_id = '$tenant'")
[ "$left" = 0 ] || { echo "the pruner left $left rows" >&2; exit 1; }
[ "$folded" = "$ROWS" ] || { echo "usage_daily counts $folded calls, expected $ROWS" >&2; exit 1; }

batches=$(( (ROWS + 999) / 1000 ))
python3 - "$total" "$bare_ms" "$pruner_ms" "$batches" <<'PY'
import sys
total, bare, pruner, batches = (int(v) for v in sys.argv[1:])
print(f"rows removed               {total:>10,}")
print(f"bare DELETEs (baseline)    {total / (bare / 1000):>10,.0f} rows/s   ({bare} ms, one statement per table)")
print(f"controlplane retention     {total / (pruner / 1000):>10,.0f} rows/s   ({pruner} ms, {batches} batch transactions,"
      f" {pruner / batches:.1f} ms each on average; usage folded into daily totals)")
print(f"ratio                      {bare / pruner:>10.2f}")
PY
