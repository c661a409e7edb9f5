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
