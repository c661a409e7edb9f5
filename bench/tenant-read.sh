#!/usr/bin/env bash
# The authenticated hot path (key verification + the tenant's rate-limit take + one RLS read) under load,
# GET /v1/tenant, next to baselines measured in the same run at the same concurrency:
#   1. GET /healthz on the same server (the HTTP stack alone, no auth, no database),
#   2. pgbench running the same SQL bare, prepared: rate_limit_take, then tenant_read (each one statement
#      that sets the tenant for its own implicit transaction).
# Runs at each concurrency of CONCURRENCIES (default "16 64"); prints requests per second, p50 and p99
# for each (pgbench's p99 from its per-transaction log), and the ratios. Bounded: each load runs
# DURATION seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

DURATION=${DURATION:-10}
CONCURRENCIES=${CONCURRENCIES:-16 64}
THREADS=${THREADS:-2}
bench_services

bench_binary
CP_LOG_LEVEL=warning $binary migrate
port=$(free_port)
CP_HTTP_PORT=$port CP_LOG_LEVEL=warning CP_DEFAULT_REQUESTS_PER_MINUTE=1000000 CP_DEFAULT_BURST=1000000 \
    CP_DATABASE_POOL_SIZE=${CP_DATABASE_POOL_SIZE:-32} $binary serve > "$data/server.log" 2>&1 &
pids+=($!)
server_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

slug="bench-$RANDOM$RANDOM"
signup=$(curl -fs -X POST "http://127.0.0.1:$port/v1/signup" -H 'content-type: application/json' \
    -d "{\"organization_name\":\"Bench\",\"slug\":\"$slug\",\"admin_email\":\"$slug@example.test\",\"admin_password\":\"correct horse battery\"}")
token=$(printf '%s' "$signup" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
tenant=$(curl -fs "http://127.0.0.1:$port/v1/tenant" -H "Authorization: Bearer $token" \
    | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p' | head -n 1)

# wrk's summary: requests/sec, p50 and p99 latency, then the CPU per request of the server and of the whole
# machine (server, Postgres, wrk), in microseconds.
run_wrk() {
    local concurrency=$1 output server0 machine0
    shift
    server0=$(process_ticks "$server_pid"); machine0=$(machine_ticks)
    output=$(wrk -t "$THREADS" -c "$concurrency" -d "${DURATION}s" --latency "$@")
    local rps p50 p99 requests
    rps=$(printf '%s\n' "$output" | awk '/Requests\/sec/ {print $2}')
    p50=$(printf '%s\n' "$output" | awk '$1 == "50%" {print $2}')
    p99=$(printf '%s\n' "$output" | awk '$1 == "99%" {print $2}')
    requests=$(printf '%s\n' "$output" | awk '/requests in/ {print $1}')
    echo "$rps $p50 $p99 $(micros_per $(($(process_ticks "$server_pid") - server0)) "$requests")" \
        "$(micros_per $(($(machine_ticks) - machine0)) "$requests")"
}

cat > "$data/tenant.sql" <<SQL
SELECT allowed, requests_per_minute, burst, remaining, reset_seconds, retry_after_seconds FROM rate_limit_take('$tenant');
SELECT tenant_id, slug, name, status, plan, timezone, created_at FROM tenant_read('$tenant');
SQL

for concurrency in $CONCURRENCIES; do
    read -r tenant_rps tenant_p50 tenant_p99 tenant_server tenant_machine < <(
        run_wrk "$concurrency" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/tenant")
    read -r health_rps health_p50 health_p99 health_server health_machine < <(run_wrk "$concurrency" "http://127.0.0.1:$port/healthz")
    rm -f "$data"/pgb-read.*
    machine0=$(machine_ticks)
    pgbench_out=$(cd "$data" && PGPASSWORD=${CP_APP_PASSWORD} pgbench -n -h 127.0.0.1 -p "$CP_POSTGRES_PORT" \
        -U controlplane_app -c "$concurrency" -j "$THREADS" -T "$DURATION" -M prepared --log --log-prefix=pgb-read \
        -f "$data/tenant.sql" controlplane 2>&1)
    pg_machine=$(micros_per $(($(machine_ticks) - machine0)) \
        "$(printf '%s\n' "$pgbench_out" | awk '/actually processed/ {print $NF; exit}')")
    pg_tps=$(printf '%s\n' "$pgbench_out" | awk '/^tps/ {print $3; exit}')
    pg_latency=$(printf '%s\n' "$pgbench_out" | awk '/^latency average/ {print $4 "ms"; exit}')
    pg_p99=$(pgbench_p99 "$data/pgb-read")

    printf '\n%-48s %12s %10s %10s\n' "load (concurrency $concurrency, ${DURATION}s each)" "req/s" "p50" "p99"
    printf '%-48s %12s %10s %10s\n' "GET /v1/tenant (key, rate limit, RLS read)" "$tenant_rps" "$tenant_p50" "$tenant_p99"
    printf '%-48s %12s %10s %10s\n' "baseline: GET /healthz (same server)" "$health_rps" "$health_p50" "$health_p99"
    printf '%-48s %12s %10s %10s\n' "baseline: pgbench, the same SQL bare" "$pg_tps" "avg $pg_latency" "${pg_p99}ms"
    printf 'CPU per request: GET /v1/tenant server %s us, machine %s us; GET /healthz server %s us, machine %s us;\n' \
        "$tenant_server" "$tenant_machine" "$health_server" "$health_machine"
    printf '  pgbench machine %s us per transaction (Postgres and pgbench)\n' "$pg_machine"
    awk -v a="$tenant_rps" -v h="$health_rps" -v p="$pg_tps" 'BEGIN {
        printf "ratio GET /v1/tenant / GET /healthz: %.2f\n", a / h
        printf "ratio GET /v1/tenant / pgbench:      %.2f\n", a / p
    }'
    bench_result "hot-path GET /v1/tenant, c$concurrency (req/s vs pgbench)" "$tenant_rps" "$pg_tps" "ratio>=0.6"
    bench_result "hot-path GET /v1/tenant, c$concurrency (p99 ms vs pgbench's)" "$(millis "$tenant_p99")" "$pg_p99" \
        "ratio<=3"
done
