# Shared by the bench/ scripts: a private Postgres and Redis in a temporary folder (`data`), removed on
# exit together with every process listed in `pids`, and the binary to measure (`binary`).
# shellcheck shell=bash

# bench_services: installs what is missing, sets `data` and `pids`, starts Postgres and Redis on free
# loopback ports, and stops everything on exit.
bench_services() {
    ensure_packages
    data=$(mktemp -d /tmp/controlplane-bench.XXXXXX)
    chmod 755 "$data"
    pids=()
    trap bench_cleanup EXIT
    start_postgres "$data" "$(free_port)"
    start_redis "$data" "$(free_port)"
    ensure_master_key "$data"
}

bench_cleanup() {
    [ "${#pids[@]}" = 0 ] || stop_processes "${pids[@]}"
    stop_redis
    stop_postgres
    case "${CP_POSTGRES_CLUSTER:-}" in /tmp/controlplane-pg.*) rm -rf "$CP_POSTGRES_CLUSTER" ;; esac
    rm -rf "$data"
}

# bench_binary: sets `binary`: CONTROLPLANE_BIN (a binary built elsewhere, e.g. an earlier commit, for a
# before/after comparison), or a release build in BENCH_SCRATCH (default .build).
bench_binary() {
    if [ -n "${CONTROLPLANE_BIN:-}" ]; then
        binary=$CONTROLPLANE_BIN
    else
        local scratch=${BENCH_SCRATCH:-.build}
        swift build -c release --product controlplane --scratch-path "$scratch" >&2
        binary=$scratch/release/controlplane
    fi
}

# bench_result PATH FIGURE BASELINE AIM: one row of `bench/all.sh`'s table, appended to BENCH_RESULTS when
# it is set (a bench run alone prints its own lines only). AIM is `ratio>=X` (FIGURE / BASELINE at least
# X), `ratio<=X` or `diff<=X` (FIGURE - BASELINE at most X, both in the same unit).
bench_result() {
    [ -n "${BENCH_RESULTS:-}" ] || return 0
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$BENCH_RESULTS"
}

# pgbench_p99 PREFIX: the 99th percentile latency in milliseconds of the transactions pgbench logged with
# `--log --log-prefix=PREFIX` (third column: microseconds).
pgbench_p99() {
    cat "$1".* | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f", v[i] / 1000}'
}

# millis TEXT: milliseconds from wrk's latency text (us, ms or s).
millis() {
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# process_ticks PID: the CPU time process PID has used (user and system), in clock ticks.
process_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# machine_ticks: the busy CPU time of the whole machine (user, nice, system, irq, softirq), in clock ticks.
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# micros_per TICKS COUNT: microseconds of CPU per item, TICKS clock ticks spent on COUNT items.
micros_per() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", 1e6 * t / hz / n }'; }

# wait_for URL: waits (at most a minute) until URL answers anything.
wait_for() {
    for _ in $(seq 1 300); do curl -s --max-time 2 -o /dev/null "$1" && return 0; sleep 0.2; done
    return 1
}

# bench_signup PORT: signs a new tenant up on the server at PORT; prints its first API key.
bench_signup() {
    local slug="bench-$RANDOM$RANDOM"
    curl -fs -X POST "http://127.0.0.1:$1/v1/signup" -H 'content-type: application/json' \
        -d "{\"organization_name\":\"Bench\",\"slug\":\"$slug\",\"admin_email\":\"$slug@example.test\",\"admin_password\":\"correct horse battery\"}" \
        | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p'
}

# bench_gateway_policy PORT TOKEN: routes the tenant's calls to `openai/bench` (the fake upstream), with
# no hourly cap to speak of and the response cache off.
bench_gateway_policy() {
    curl -fs -X PUT "http://127.0.0.1:$1/v1/policy" -H "Authorization: Bearer $2" -H 'content-type: application/json' \
        -d '{"routes": {"default": [{"provider": "openai", "model": "bench", "max_tokens": 256, "timeout_ms": 30000}]},
             "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 10000000,
             "cache": {"enabled": false, "ttl_seconds": 60}}' > /dev/null
}

# bench_gateway_server [VAR=value ...]: starts the fake OpenAI upstream (`upstream`: its port), migrates
# and starts `controlplane serve` (`port`, `server_pid`) with room for any load (rate limit, budget, a
# pool of 32) and OpenAI pointed at the upstream, plus the settings given; waits until it answers.
bench_gateway_server() {
    upstream=$(free_port)
    python3 bench/fake_openai.py "$upstream" & pids+=($!)
    CP_LOG_LEVEL=warning $binary migrate
    port=$(free_port)
    env CP_HTTP_PORT="$port" CP_LOG_LEVEL=warning CP_DEFAULT_REQUESTS_PER_MINUTE=1000000 CP_DEFAULT_BURST=1000000 \
        CP_DEFAULT_TOKEN_LIMIT=2000000000 CP_DEFAULT_MAX_TOKEN_LIMIT=2000000000 CP_DATABASE_POOL_SIZE=32 \
        CP_OPENAI_BASE_URL="http://127.0.0.1:$upstream/v1" CP_OPENAI_API_KEY=sk-bench "$@" \
        "$binary" serve > "$data/server.log" 2>&1 & pids+=($!)
    server_pid=$!
    wait_for "http://127.0.0.1:$port/healthz"
}
