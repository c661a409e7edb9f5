#!/usr/bin/env bash
# The intervention scheduler: COUNT overdue commitments of one tenant (default 2,000), all due, turned
# into interventions by one `controlplane worker` (the `mock` provider writes each message through the
# gateway: policy, budget reservation, ledger row). Prints interventions per second next to the baseline
# measured in the same run on the same rows: psql doing, per intervention, the bare durable statements
# the scheduler cannot do without (claim it, make it open with its message, write one ledger row), one
# transaction each, with no gateway, no budget and no notification.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

COUNT=${COUNT:-2000}
bench_services

bench_binary
superuser() { runuser -u postgres -- psql -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -d controlplane -qAt "$@"; }

CP_LOG_LEVEL=warning $binary migrate
port=$(free_port)
CP_HTTP_PORT=$port CP_WORKER_CONCURRENCY=0 CP_LOG_LEVEL=warning $binary serve > "$data/server.log" 2>&1 & pids+=($!)
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
slug="bench-$RANDOM$RANDOM"
read -r tenant token < <(curl -fs -X POST "http://127.0.0.1:$port/v1/signup" -H 'content-type: application/json' \
    -d "{\"organization_name\":\"Bench\",\"slug\":\"$slug\",\"admin_email\":\"$slug@example.test\",\"admin_password\":\"correct horse battery\"}" \
    | python3 -c 'import json, sys; a = json.load(sys.stdin); print(a["tenant"]["id"], a["api_key"]["token"])')
# The default policy allows 1,000 LLM calls an hour: raised, and the response cache off, so every
# intervention is a real gateway call.
curl -fs -X PUT "http://127.0.0.1:$port/v1/policy" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"routes":{"default":[{"provider":"mock","model":"mock-1","max_tokens":1024,"timeout_ms":30000}]},
         "max_tokens_per_request":4096,"max_llm_requests_per_hour":10000000,"cache":{"enabled":false,"ttl_seconds":60}}' \
    >/dev/null
stop_processes "${pids[@]}"
pids=()

# seed: COUNT watched commitments of the tenant, due a minute ago.
seed() {
    superuser <<SQL
DELETE FROM interventions WHERE tenant_id = '$tenant';
INSERT INTO interventions (tenant_id, intervention_id, analysis_id, commitment_index, repository, sha, author_email,
                           committed_at, commitment, due_date, due_at, next_check_at)
SELECT '$tenant', md5('i' || g)::uuid, md5('a' || g)::uuid, 0, 'acme/api', md5('s' || g), 'dev' || (g % 50) || '@acme.test',
       now() - interval '3 days', 'I will fix the flaky test ' || g || ' by Friday', current_date - 2,
       now() - interval '1 minute', now() - interval '1 minute'
FROM generate_series(1, $COUNT) g;
VACUUM ANALYZE interventions;
SQL
}
now_ms() { date +%s%3N; }

log "seeding $COUNT due commitments (baseline)"
seed
cat > "$data/baseline.sql" <<SQL
BEGIN;
UPDATE interventions SET next_check_at = now() + interval '5 minutes', attempts = attempts + 1
WHERE (tenant_id, intervention_id) = (SELECT tenant_id, intervention_id FROM interventions
    WHERE status = 'watching' AND next_check_at <= now() ORDER BY next_check_at LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING intervention_id \gset
UPDATE interventions SET status = 'open', message = 'Hi! You said it. How is it going?', created_at = now(),
    next_check_at = 'infinity', provider = 'mock', model = 'mock-1', total_tokens = 60
WHERE tenant_id = '$tenant' AND intervention_id = :'intervention_id' AND status = 'watching';
INSERT INTO usage_records (tenant_id, usage_day, request_id, kind, provider, model, prompt_tokens, completion_tokens,
                           reasoning_tokens, total_tokens, cached, cost_micros, period, period_start)
VALUES ('$tenant', current_date, 'intervention-' || :'intervention_id', 'intervention', 'mock', 'mock-1', 40, 20, 0,
        60, false, 0, 'monthly', date_trunc('month', now()));
COMMIT;
SQL
start=$(now_ms)
for _ in $(seq 1 "$COUNT"); do cat "$data/baseline.sql"; done | superuser -v ON_ERROR_STOP=1 >/dev/null
bare_ms=$(( $(now_ms) - start ))
opened=$(superuser -c "SELECT count(*) FROM interventions WHERE tenant_id = '$tenant' AND status = 'open'")
[ "$opened" = "$COUNT" ] || { echo "the baseline opened $opened of $COUNT" >&2; exit 1; }

log "seeding $COUNT due commitments (scheduler)"
seed
superuser -c "DELETE FROM usage_records WHERE tenant_id = '$tenant'" >/dev/null
worker_port=$(free_port)
start=$(now_ms)
CP_WORKER_HTTP_PORT=$worker_port CP_INTERVENTION_POLL_SECONDS=1 CP_INTERVENTION_TENANTS=$tenant CP_LOG_LEVEL=warning \
    $binary worker > "$data/worker.log" 2>&1 & pids+=($!)
deadline=$(( $(date +%s) + 600 ))
while :; do
    opened=$(superuser -c "SELECT count(*) FROM interventions WHERE tenant_id = '$tenant' AND status = 'open'")
    [ "$opened" = "$COUNT" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || { echo "after 600 s the scheduler opened $opened of $COUNT" >&2; exit 1; }
    sleep 0.2
done
scheduler_ms=$(( $(now_ms) - start ))
stop_processes "${pids[@]}"
pids=()
ledger=$(superuser -c "SELECT count(*) FROM usage_records WHERE tenant_id = '$tenant' AND kind = 'intervention'")
[ "$ledger" -ge "$COUNT" ] || { echo "the ledger has $ledger intervention rows for $COUNT interventions" >&2; exit 1; }

python3 - "$COUNT" "$bare_ms" "$scheduler_ms" "$ledger" <<'PY'
import sys
count, bare, scheduler, ledger = (int(v) for v in sys.argv[1:])
print(f"interventions made            {count:>10,}   ({ledger:,} ledger rows)")
print(f"bare statements (baseline)    {count / (bare / 1000):>10,.0f} /s   ({bare} ms, psql, one transaction each)")
print(f"controlplane worker           {count / (scheduler / 1000):>10,.0f} /s   ({scheduler} ms from start, mock provider,"
      " gateway with budget and ledger)")
print(f"ratio                         {bare / scheduler:>10.2f}")
PY
bench_result "interventions, mock provider (per s vs bare claim + update + ledger)" \
    "$(awk -v c="$COUNT" -v ms="$scheduler_ms" 'BEGIN { printf "%.0f", c / (ms / 1000) }')" \
    "$(awk -v c="$COUNT" -v ms="$bare_ms" 'BEGIN { printf "%.0f", c / (ms / 1000) }')" "ratio>=0.5"
