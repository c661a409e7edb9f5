#!/usr/bin/env bash
# Webhook ingest under load: POST /v1/hooks/github/{id} with a 7 KB push (signature checked over the raw
# bytes, the delivery and its three jobs committed durably in Postgres, the job ids put on the tenant's
# Redis stream) at CONCURRENCY connections (default 16), each request with its own X-GitHub-Delivery.
# Next to it, in the same run and on the same services: the bare statements alone, i.e. pgbench
# committing the same rows (a 7 KB delivery and three jobs per transaction) and redis-benchmark doing
# XADD. Prints deliveries per second, p50 and p99 ack latency, and the ratio to the bare rate.
# Bounded: each load runs DURATION seconds. Also prints the WAL each side writes per delivery; PG_STATEMENTS=1
# also prints the statements that took the most Postgres time during the ingest load.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-16}
THREADS=${THREADS:-2}
if [ "${PG_STATEMENTS:-0}" = 1 ]; then export PG_OPTIONS="${PG_OPTIONS:-} -c shared_preload_libraries=pg_stat_statements"; fi
bench_services
superuser() { runuser -u postgres -- psql -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -d controlplane -qAt "$@"; }
wal_lsn() { superuser -c "SELECT pg_current_wal_lsn()"; }
wal_bytes() { superuser -c "SELECT pg_wal_lsn_diff('$2', '$1')::bigint"; }

bench_binary

CP_LOG_LEVEL=warning $binary migrate
port=$(free_port)
CP_HTTP_PORT=$port CP_LOG_LEVEL=warning CP_DATABASE_POOL_SIZE=32 CP_QUEUE_MAX_DEPTH=100000000 \
    $binary serve > "$data/server.log" 2>&1 & pids+=($!)
server_pid=$!
wait_for "http://127.0.0.1:$port/healthz"

token=$(bench_signup "$port")
endpoint=$(curl -fs -X POST "http://127.0.0.1:$port/v1/webhooks" -H "Authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d '{"provider": "github", "pipelines": ["commitments", "security_review", "change_summary"]}')
id=$(printf '%s' "$endpoint" | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p')
secret=$(printf '%s' "$endpoint" | sed -n 's/.*"secret" *: *"\([^"]*\)".*/\1/p')

# A 7 KB push of four commits, shaped like GitHub's.
python3 - "$data/push.json" <<'PY'
import json, sys
commits = [{"id": f"{i:040x}", "tree_id": f"{i + 99:040x}", "distinct": True,
            "message": f"Change {i}: rework the cache layer\n\nI will add tests by Friday. " + "Details. " * 40,
            "timestamp": "2026-11-20T16:04:05+01:00", "url": f"https://github.com/acme/api/commit/{i:040x}",
            "author": {"name": "Ada", "email": "ada@acme.test", "username": "ada"},
            "committer": {"name": "GitHub", "email": "noreply@github.com"},
            "added": [f"src/new_{i}.swift"], "removed": [], "modified": ["src/cache.swift", "README.md"]}
           for i in range(1, 5)]
push = {"ref": "refs/heads/main", "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "after": commits[-1]["id"],
        "created": False, "deleted": False, "forced": False, "base_ref": None,
        "compare": "https://github.com/acme/api/compare/6113728f27ae...", "commits": commits,
        "head_commit": commits[-1],
        "repository": {"id": 1, "name": "api", "full_name": "acme/api", "private": True, "created_at": 1557933565,
                       "pushed_at": 1557933657, "default_branch": "main", "description": "x" * 1500},
        "pusher": {"name": "ada", "email": "ada@acme.test"}, "sender": {"login": "ada", "id": 1}}
text = json.dumps(push, separators=(",", ":"))
text += " " * max(0, 7168 - len(text))
open(sys.argv[1], "w").write(text)
PY
signature="sha256=$(openssl dgst -sha256 -hmac "$secret" -hex < "$data/push.json" | sed 's/^.* //')"
bytes=$(wc -c < "$data/push.json")

python3 - "$data/ingest.lua" "$data/push.json" "$signature" <<'PY'
import sys
out, body_path, signature = sys.argv[1:]
body = open(body_path).read()
assert "]==]" not in body
open(out, "w").write(f"""
local counter = 0
local threads = 0
local body = [==[{body}]==]
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function request()
    counter = counter + 1
    return wrk.format("POST", nil, {{["Content-Type"] = "application/json", ["X-GitHub-Event"] = "push",
        ["X-Hub-Signature-256"] = "{signature}", ["X-GitHub-Delivery"] = tid .. "-" .. counter}}, body)
end
""")
PY

if [ "${PG_STATEMENTS:-0}" = 1 ]; then
    superuser -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" > /dev/null
fi
wal0=$(wal_lsn); server0=$(process_ticks "$server_pid"); machine0=$(machine_ticks)
output=$(wrk -t "$THREADS" -c "$CONCURRENCY" -d "${DURATION}s" --latency -s "$data/ingest.lua" \
    "http://127.0.0.1:$port/v1/hooks/github/$id")
rps=$(printf '%s\n' "$output" | awk '/Requests\/sec/ {print $2}')
p50=$(printf '%s\n' "$output" | awk '$1 == "50%" {print $2}')
p99=$(printf '%s\n' "$output" | awk '$1 == "99%" {print $2}')
non2xx=$(printf '%s\n' "$output" | awk '/Non-2xx/ {print $5}')
wal1=$(wal_lsn); server1=$(process_ticks "$server_pid"); machine1=$(machine_ticks)
if [ "${PG_STATEMENTS:-0}" = 1 ]; then
    echo "statements by total time during the ingest load (ms total, calls, ms mean, rows):"
    superuser -F ' | ' -c "SELECT round(total_exec_time)::bigint, calls, round(mean_exec_time::numeric, 3), rows,
                                  left(regexp_replace(query, '\s+', ' ', 'g'), 110)
                           FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15"
fi
deliveries=$(superuser -c "SELECT count(*) FROM webhook_deliveries")

# The bare statements: the same rows, committed the same way (one durable transaction per delivery).
psql_owner() { psql "$CP_MIGRATION_DATABASE_URL" -q -v ON_ERROR_STOP=1 "$@"; }
hex=$(python3 -c 'import binascii, sys; print(binascii.hexlify(open(sys.argv[1], "rb").read()).decode())' "$data/push.json")
psql_owner -c "CREATE TABLE bench_body (body bytea)" -c "INSERT INTO bench_body VALUES (decode('$hex', 'hex'))"
psql_owner <<'SQL'
CREATE TABLE bench_deliveries (tenant_id uuid, delivery_id uuid, github_delivery text, body bytea,
    PRIMARY KEY (tenant_id, delivery_id));
CREATE UNIQUE INDEX ON bench_deliveries (tenant_id, github_delivery);
CREATE TABLE bench_jobs (tenant_id uuid, job_id uuid, delivery_id uuid, pipeline text, PRIMARY KEY (tenant_id, job_id));
SQL
cat > "$data/bare.sql" <<'SQL'
BEGIN;
INSERT INTO bench_deliveries SELECT '00000000-0000-0000-0000-000000000001', gen_random_uuid(), gen_random_uuid()::text, body FROM bench_body;
INSERT INTO bench_jobs SELECT '00000000-0000-0000-0000-000000000001', gen_random_uuid(), gen_random_uuid(), p
    FROM unnest(ARRAY['commitments', 'security_review', 'change_summary']) AS p;
END;
SQL
wal2=$(wal_lsn); machine2=$(machine_ticks)
pg_tps=$(pgbench "$CP_MIGRATION_DATABASE_URL" -n -c "$CONCURRENCY" -j "$THREADS" -T "$DURATION" -f "$data/bare.sql" \
    2>/dev/null | awk '/^tps/ {print $3; exit}')
wal3=$(wal_lsn); machine3=$(machine_ticks)
bare_rows=$(superuser -c "SELECT count(*) FROM bench_deliveries")
redis_password=$(printf '%s' "$CP_REDIS_URL" | sed -n 's|redis://:\([^@]*\)@.*|\1|p')
redis_port=$(printf '%s' "$CP_REDIS_URL" | sed -n 's|.*:\([0-9]*\)$|\1|p')
xadd_rps=$(redis-benchmark -h 127.0.0.1 -p "$redis_port" -a "$redis_password" -c "$CONCURRENCY" -n 200000 -q \
    XADD 'bench:{t:x}:jobs' '*' job 00000000-0000-0000-0000-000000000000 2>/dev/null \
    | awk '{for (i = 1; i <= NF; i++) if ($i ~ /requests/) {print $(i-1); exit}}')

printf '\n%-58s %10s %10s %10s %8s\n' "webhook ingest, $bytes-byte push, $CONCURRENCY connections, ${DURATION}s" "per s" "p50" "p99" "non-2xx"
printf '%-58s %10s %10s %10s %8s\n' "ControlPlane POST /v1/hooks/github/{id} (3 jobs each)" "$rps" "$p50" "$p99" "${non2xx:-0}"
printf '%-58s %10s\n' "bare: pgbench, same rows in one durable transaction" "$pg_tps"
printf '%-58s %10s\n' "bare: redis-benchmark XADD (3 per delivery)" "$xadd_rps"
awk -v ours="$(wal_bytes "$wal0" "$wal1")" -v n="$deliveries" -v bare="$(wal_bytes "$wal2" "$wal3")" -v m="$bare_rows" \
    'BEGIN { printf "WAL per delivery: %.0f bytes (%d deliveries); bare: %.0f bytes (%d)\n", ours / n, n, bare / m, m }'
# Where the two cores went: CPU per delivery of the server process and of the whole machine (server,
# Postgres, Redis, wrk), and of the whole machine per bare transaction (Postgres and pgbench).
printf 'CPU per delivery: server %s us, machine %s us; bare: machine %s us per transaction\n' \
    "$(micros_per $((server1 - server0)) "$deliveries")" "$(micros_per $((machine1 - machine0)) "$deliveries")" \
    "$(micros_per $((machine3 - machine2)) "$bare_rows")"
awk -v r="$rps" -v p="$pg_tps" -v x="$xadd_rps" 'BEGIN {
    bare = 1 / (1 / p + 3 / x)
    printf "bare insert-plus-enqueue: %.0f deliveries/s; ingest is %.0f%% of it\n", bare, 100 * r / bare
}'
bench_result "webhook ingest, c$CONCURRENCY (deliveries/s vs bare insert + 3 XADD)" "$rps" \
    "$(awk -v p="$pg_tps" -v x="$xadd_rps" 'BEGIN { printf "%.0f", 1 / (1 / p + 3 / x) }')" "ratio>=0.7"
