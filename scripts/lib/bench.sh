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
