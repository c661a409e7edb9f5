#!/usr/bin/env bash
# The runtime under load with the `mock` provider: tenant A has a backlog of BACKLOG jobs (default
# 100,000; one commit each, every commit and message distinct, so each job makes one model call through
# the gateway: policy, budget reservation, ledger, then its analysis), and `controlplane worker` (release
# build, CP_WORKER_CONCURRENCY slots, default 16) works for DURATION seconds while tenant B sends one signed
# push every 100 ms through the API. Prints A's jobs per second end to end and B's queue wait (p50, p99,
# max) while A's backlog stands. Then SPREAD tenants (default 16) get SPREAD_BACKLOG jobs each (default
# 5,000) and a fresh worker runs for DURATION seconds: the jobs per second across tenants. A tenant's
# budget row is locked from reservation to durable commit, so one tenant's calls take turns on it; the
# spread figure shows what the runtime does when that is not the limit. Both figures are printed next
# to the baseline measured in the same run: pgbench committing the same durable statements a job makes
# (claim, reserve, ledger row, analysis, finish) as bare SQL, on one budget row and on SPREAD rows.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

DURATION=${DURATION:-30}
BACKLOG=${BACKLOG:-100000}
SLOTS=${SLOTS:-16}
SPREAD=${SPREAD:-16}
SPREAD_BACKLOG=${SPREAD_BACKLOG:-5000}
# PG_STATEMENTS=1 also prints the statements that took the most Postgres time while the worker ran.
if [ "${PG_STATEMENTS:-0}" = 1 ]; then export PG_OPTIONS="${PG_OPTIONS:-} -c shared_preload_libraries=pg_stat_statements"; fi
bench_services

bench_binary
superuser() { runuser -u postgres -- psql -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -d controlplane -qAt "$@"; }

CP_LOG_LEVEL=warning $binary migrate
port=$(free_port)
export CP_QUEUE_MAX_DEPTH=100000000 CP_DEFAULT_TOKEN_LIMIT=2000000000 CP_DEFAULT_MAX_TOKEN_LIMIT=2000000000 \
    CP_DEFAULT_REQUESTS_PER_MINUTE=1000000 CP_DEFAULT_BURST=1000000 CP_LOG_LEVEL=warning
CP_HTTP_PORT=$port CP_WORKER_CONCURRENCY=0 $binary serve > "$data/server.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$port/healthz"

# signup: prints "tenant-id token" of a new tenant whose policy routes everything to `mock` with room
# for the run (the standard policy allows 1,000 model calls an hour).
signup() {
    local slug="bench-$RANDOM$RANDOM" json tenant token
    json=$(curl -fs -X POST "http://127.0.0.1:$port/v1/signup" -H 'content-type: application/json' \
        -d "{\"organization_name\":\"Bench\",\"slug\":\"$slug\",\"admin_email\":\"$slug@example.test\",\"admin_password\":\"correct horse battery\"}")
    tenant=$(printf '%s' "$json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["tenant"]["id"])')
    token=$(printf '%s' "$json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"]["token"])')
    curl -fs -X PUT "http://127.0.0.1:$port/v1/policy" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
        -d '{"routes": {"default": [{"provider": "mock", "model": "mock-1", "max_tokens": 1024, "timeout_ms": 30000}]},
             "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 10000000,
             "cache": {"enabled": false, "ttl_seconds": 60}}' > /dev/null
    echo "$tenant $token"
}
read -r big _ < <(signup)
read -r small small_token < <(signup)
endpoint=$(curl -fs -X POST "http://127.0.0.1:$port/v1/webhooks" -H "Authorization: Bearer $small_token" \
    -H 'content-type: application/json' -d '{"provider": "github", "pipelines": ["commitments"]}')

redis_password=$(printf '%s' "$CP_REDIS_URL" | sed -n 's|redis://:\([^@]*\)@.*|\1|p')
redis_port=$(printf '%s' "$CP_REDIS_URL" | sed -n 's|.*:\([0-9]*\)$|\1|p')
# load TENANT COUNT TAG: COUNT queued jobs of one distinct commit each, in Postgres and on the tenant's stream.
load() {
    local tenant=$1 count=$2 tag=$3
    superuser > /dev/null <<SQL
SELECT set_config('app.tenant_id', '$tenant', false);
INSERT INTO webhook_deliveries (tenant_id, delivery_id, endpoint_id, github_delivery, event, repository, ref, status,
                                content_type, body, job_count)
SELECT '$tenant', md5('$tag-d' || n)::uuid, gen_random_uuid(), 'bench-' || n, 'push', 'acme/api', 'refs/heads/main',
       'enqueued', 'application/json',
       convert_to(json_build_object('ref', 'refs/heads/main', 'repository', json_build_object('full_name', 'acme/api'),
           'commits', json_build_array(json_build_object('id', md5('$tag-c' || n) || '00000000', 'message',
               'Change $tag ' || n || ': I will add tests for the cache by Friday.', 'timestamp', '2026-11-20T16:04:05+01:00',
               'author', json_build_object('name', 'Ada', 'email', 'ada@acme.test'),
               'added', json_build_array(), 'removed', json_build_array(), 'modified', json_build_array('src/cache.swift'))))::text,
           'UTF8'), 1
FROM generate_series(1, $count) AS n;
INSERT INTO jobs (tenant_id, job_id, delivery_id, pipeline, repository, max_attempts, enqueued_at)
SELECT '$tenant', md5('$tag-j' || n)::uuid, md5('$tag-d' || n)::uuid, 'commitments', 'acme/api', 5, now()
FROM generate_series(1, $count) AS n;
SQL
    redis-cli -h 127.0.0.1 -p "$redis_port" -a "$redis_password" --no-auth-warning \
        XGROUP CREATE "cp:{t:$tenant}:jobs" workers 0 MKSTREAM > /dev/null || true
    superuser -c "SELECT job_id FROM jobs WHERE tenant_id = '$tenant' AND status = 'queued' ORDER BY created_at, job_id" | python3 -c '
import sys
prefix, tenant = sys.argv[1], sys.argv[2]
key = f"{prefix}:{{t:{tenant}}}:jobs"
def command(*args):
    out = f"*{len(args)}\r\n"
    for a in args:
        out += f"${len(a.encode())}\r\n{a}\r\n"
    return out
for line in sys.stdin:
    sys.stdout.write(command("XADD", key, "*", "job", line.strip()))
sys.stdout.write(command("ZADD", f"{prefix}:ready", "NX", "0", tenant))
sys.stdout.write(command("SADD", f"{prefix}:streams", tenant))
' cp "$tenant" | redis-cli -h 127.0.0.1 -p "$redis_port" -a "$redis_password" --no-auth-warning --pipe > /dev/null
}
succeeded() { superuser -c "SELECT count(*) FROM jobs WHERE status = 'succeeded' AND tenant_id = ANY('{$1}'::uuid[])"; }

log "loading a backlog of $BACKLOG jobs for tenant A"
load "$big" "$BACKLOG" big

if [ "${PG_STATEMENTS:-0}" = 1 ]; then
    superuser -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" > /dev/null
fi
log "working for ${DURATION}s with $SLOTS slots while tenant B pushes every 100 ms"
CP_WORKER_CONCURRENCY=$SLOTS CP_DATABASE_POOL_SIZE=$((SLOTS + 8)) $binary worker > "$data/worker.log" 2>&1 & pids+=($!)
worker_pid=$!
python3 - "$port" "$endpoint" "$DURATION" <<'PY' &
import hashlib, hmac, json, sys, time, urllib.request, uuid
port, endpoint, duration = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
deadline = time.time() + duration
n = 0
while time.time() < deadline:
    n += 1
    sha = hashlib.sha1(f"small-{n}-{time.time()}".encode()).hexdigest()
    body = json.dumps({"ref": "refs/heads/main", "after": sha, "repository": {"full_name": "beta/app"},
                       "commits": [{"id": sha, "message": f"Small change {n}: we will ship it tomorrow.",
                                    "timestamp": "2026-11-20T16:04:05+01:00",
                                    "author": {"name": "Bo", "email": "bo@beta.test"},
                                    "added": [], "removed": [], "modified": ["app.py"]}]}).encode()
    signature = "sha256=" + hmac.new(endpoint["secret"].encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{endpoint['url']}", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature})
    urllib.request.urlopen(request).read()
    time.sleep(0.1)
PY
pusher=$!
# A's rate is read between two counts, after a warm-up, so start-up is not in it.
sleep 3
count0=$(succeeded "$big"); t0=$(date +%s.%N)
wait "$pusher"
count1=$(succeeded "$big"); t1=$(date +%s.%N)
kill "$worker_pid" 2>/dev/null || true
wait "$worker_pid" 2>/dev/null || true
if [ "${PG_STATEMENTS:-0}" = 1 ]; then
    echo "statements by total time while the worker ran (ms total, calls, ms mean, rows):"
    superuser -F ' | ' -c "SELECT round(total_exec_time)::bigint, calls, round(mean_exec_time::numeric, 3), rows,
                                  left(regexp_replace(query, '\s+', ' ', 'g'), 110)
                           FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25"
fi
read -r small_jobs small_done p50 p99 max < <(superuser -F ' ' -c "
    SELECT count(*), count(*) FILTER (WHERE status = 'succeeded'),
           round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)))::int,
           round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)))::int,
           round(1000 * max(extract(epoch FROM started_at - created_at)))::int
    FROM jobs WHERE tenant_id = '$small'")

log "loading $SPREAD tenants with $SPREAD_BACKLOG jobs each"
spread_tenants=()
for i in $(seq 1 "$SPREAD"); do
    read -r tenant _ < <(signup)
    load "$tenant" "$SPREAD_BACKLOG" "spread$i"
    spread_tenants+=("$tenant")
done
spread_list=$(IFS=,; echo "${spread_tenants[*]}")
log "working for ${DURATION}s with $SLOTS slots across $SPREAD tenants"
CP_WORKER_CONCURRENCY=$SLOTS CP_DATABASE_POOL_SIZE=$((SLOTS + 8)) $binary worker > "$data/worker2.log" 2>&1 & pids+=($!)
worker_pid=$!
sleep 3
spread0=$(succeeded "$spread_list"); s0=$(date +%s.%N)
sleep "$DURATION"
spread1=$(succeeded "$spread_list"); s1=$(date +%s.%N)
kill "$worker_pid" 2>/dev/null || true
wait "$worker_pid" 2>/dev/null || true

# The baseline: the durable statements of one job as bare SQL, at the same concurrency.
superuser <<'SQL'
CREATE TABLE bench_jobs (id bigint PRIMARY KEY, status text, attempts int, lease timestamptz);
INSERT INTO bench_jobs SELECT n, 'queued', 0, NULL FROM generate_series(1, 2000000) AS n;
CREATE TABLE bench_reservations (id uuid PRIMARY KEY, tokens bigint);
CREATE TABLE bench_usage (id bigserial PRIMARY KEY, tokens bigint, at timestamptz DEFAULT now());
CREATE TABLE bench_analyses (id uuid PRIMARY KEY, output jsonb);
CREATE TABLE bench_budget (id int PRIMARY KEY, used bigint);
INSERT INTO bench_budget SELECT n, 0 FROM generate_series(1, 1000) AS n;
SQL
cat > "$data/job.sql" <<'SQL'
\set id random(1, 2000000)
\set budget random(1, :budgets)
UPDATE bench_jobs SET status = 'running', attempts = attempts + 1, lease = now() + interval '60 s' WHERE id = :id;
INSERT INTO bench_reservations VALUES (md5(:id::text || random()::text)::uuid, 1000);
BEGIN;
INSERT INTO bench_usage (tokens) VALUES (120);
UPDATE bench_budget SET used = used + 120 WHERE id = :budget;
END;
INSERT INTO bench_analyses VALUES (gen_random_uuid(), '{"commitments": [{"text": "I will add tests", "confidence": 0.9}]}');
UPDATE bench_jobs SET status = 'succeeded', lease = NULL WHERE id = :id;
SQL
chmod 644 "$data/job.sql"
# bare BUDGET_ROWS: jobs per second of the bare SQL with every job charged to one of BUDGET_ROWS rows.
bare() {
    local tps
    tps=$(runuser -u postgres -- pgbench -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" controlplane -n -c "$SLOTS" \
        -j 2 -T 10 -D budgets="$1" -f "$data/job.sql" 2> "$data/pgbench.log" | awk '/^tps/ {print $3; exit}') || true
    if [ -z "$tps" ]; then cat "$data/pgbench.log" >&2; exit 1; fi
    echo "$tps"
}
bare_one=$(bare 1)
bare_spread=$(bare "$SPREAD")

awk -v n="$((count1 - count0))" -v t0="$t0" -v t1="$t1" -v bare="$bare_one" -v slots="$SLOTS" \
    -v backlog="$BACKLOG" -v sj="$small_jobs" -v sd="$small_done" -v p50="$p50" -v p99="$p99" -v max="$max" \
    -v sn="$((spread1 - spread0))" -v s0="$s0" -v s1="$s1" -v sbare="$bare_spread" -v spread="$SPREAD" 'BEGIN {
    t = t1 - t0; st = s1 - s0
    printf "\nruntime, mock provider, %d slots\n", slots
    printf "%-66s %8.0f\n", "tenant A alone (backlog " backlog "), jobs per second end to end", n / t
    printf "%-66s %8.0f\n", "  baseline: bare SQL of one job (5 durable statements), one budget", bare
    printf "  ratio: %.2f\n", (n / t) / bare
    printf "%-66s %8.0f\n", spread " tenants with backlogs, jobs per second end to end", sn / st
    printf "%-66s %8.0f\n", "  baseline: the same bare SQL over " spread " budgets", sbare
    printf "  ratio: %.2f\n", (sn / st) / sbare
    printf "tenant B beside A: %d jobs sent, %d done; queue wait p50 %d ms, p99 %d ms, max %d ms\n", sj, sd, p50, p99, max
}'
bench_result "runtime, mock provider, one tenant (jobs/s vs bare job SQL)" \
    "$(awk -v n="$((count1 - count0))" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", n / (t1 - t0) }')" "$bare_one" \
    "ratio>=0.5"
bench_result "runtime, mock provider, $SPREAD tenants (jobs/s vs bare job SQL)" \
    "$(awk -v n="$((spread1 - spread0))" -v s0="$s0" -v s1="$s1" 'BEGIN { printf "%.0f", n / (s1 - s0) }')" \
    "$bare_spread" "ratio>=0.5"
