# The backup and restore round trip, run by scripts/test: tenants, keys, deliveries, jobs (done and still
# queued) and analyses written through the API; scripts/backup; a new, empty Postgres cluster restored
# with scripts/restore; Redis flushed; then the restored server must answer as before with the old
# tokens, row-level security must still bind the application role, and the queued jobs must run. Then
# the restored deployment's master key is rotated while a server runs on both keys, and a server on the
# new key alone answers as before and verifies pushes signed with the old webhook secret.
# Everything here (two clusters, a Redis, the servers) is its own, on free loopback ports.
# shellcheck shell=bash

# wait_healthy URL: waits (at most 30 s) until URL/healthz answers.
wait_healthy() {
    # Each probe has its own deadline: one answer that never comes must not stop the wait (seen once).
    for _ in $(seq 1 150); do curl -fs --max-time 2 "$1/healthz" >/dev/null && return 0; sleep 0.2; done
    echo "$1 never became healthy" >&2
    return 1
}

# check_backup_roundtrip DATA_DIR PYTHON: runs in a subshell of its own, so its settings stay there.
check_backup_roundtrip() (
    set -euo pipefail
    local data=$1/backup python=$2 port base pids=() src dst
    mkdir -p "$data"
    chmod 755 "$data"
    src=$data/source
    dst=$data/restored
    mkdir -p "$src" "$dst"
    chmod 755 "$src" "$dst"
    cleanup_roundtrip() {
        [ "${#pids[@]}" = 0 ] || stop_processes "${pids[@]}"
        stop_redis
        for cluster in "$src/cluster" "${CP_POSTGRES_CLUSTER:-}"; do
            [ -f "$cluster/PG_VERSION" ] && as_postgres "$(postgres_bindir)/pg_ctl" -D "$cluster" -m fast -w stop \
                >/dev/null 2>&1 || true
        done
    }
    trap cleanup_roundtrip EXIT
    serve() {  # serve SUBCOMMAND LOG: the server on a free port, in the background
        port=$(free_port)
        CP_HTTP_PORT=$port CP_WORKER_HTTP_PORT=0 CP_LOG_LEVEL=warning CP_QUEUE_RELAY_MIN_AGE_SECONDS=0 \
            .build/debug/controlplane "$1" >> "$2" 2>&1 &
        pids+=($!)
        base="http://127.0.0.1:$port"
        wait_healthy "$base" || { tail -n 40 "$2" >&2; return 1; }
    }
    stop_servers() { stop_processes "${pids[@]}"; pids=(); }
    api() { "$python" Tests/backup/roundtrip.py "$@"; }

    log "backup round trip: writing through the API"
    start_postgres "$src" "$(free_port)"
    ln -sfn "$CP_POSTGRES_CLUSTER" "$src/cluster"
    start_redis "$data" "$(free_port)"
    CP_LOG_LEVEL=warning .build/debug/controlplane migrate
    serve all "$data/server.log"
    api seed "$base" "$data/state.json"
    api push "$base" "$data/state.json" one
    api settled "$base" "$data/state.json" 2
    stop_servers
    # Without a worker, the second push's jobs stay queued: they must come back after the restore.
    serve serve "$data/server.log"
    api push "$base" "$data/state.json" two
    api snapshot "$base" "$data/state.json" "$data/before.json"
    stop_servers

    log "backup round trip: scripts/backup"
    local psql_src=(as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -U postgres)
    local backup_password
    backup_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    "${psql_src[@]}" -d controlplane <<SQL
CREATE ROLE controlplane_backup LOGIN PASSWORD '$backup_password' BYPASSRLS IN ROLE pg_read_all_data;
GRANT CONNECT ON DATABASE controlplane TO controlplane_backup;
SQL
    CP_BACKUP_DATABASE_URL="postgres://controlplane_backup:$backup_password@127.0.0.1:$CP_POSTGRES_PORT/controlplane" \
        scripts/backup "$data/backup"
    # The application role may not make a backup: it would hold no tenant's rows.
    if CP_BACKUP_DATABASE_URL=$CP_DATABASE_URL scripts/backup "$data/refused" 2>/dev/null; then
        echo "scripts/backup ran as the application role" >&2
        exit 1
    fi
    as_postgres "$(postgres_bindir)/pg_ctl" -D "$CP_POSTGRES_CLUSTER" -m fast -w stop >/dev/null

    log "backup round trip: scripts/restore into a new cluster"
    local cluster=$dst/postgres admin_password app_password owner_password dst_port
    mkdir -p "$cluster"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$cluster"
    chmod 700 "$cluster"
    admin_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$admin_password" > "$dst/pw"
    [ "$(id -u)" = 0 ] && chown postgres "$dst/pw"
    as_postgres "$(postgres_bindir)/initdb" -D "$cluster" -U postgres --pwfile="$dst/pw" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$dst/pw"
    dst_port=$(free_port)
    as_postgres "$(postgres_bindir)/pg_ctl" -D "$cluster" -l "$cluster/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $dst_port -k $cluster -c fsync=off" >/dev/null
    export CP_POSTGRES_CLUSTER=$cluster
    app_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    owner_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    export CP_DATABASE_URL="postgres://controlplane_app:$app_password@127.0.0.1:$dst_port/controlplane"
    export CP_MIGRATION_DATABASE_URL="postgres://controlplane_owner:$owner_password@127.0.0.1:$dst_port/controlplane"
    export CP_LISTENER_DATABASE_URL=$CP_DATABASE_URL
    local admin="postgres://postgres:$admin_password@127.0.0.1:$dst_port/postgres"
    # The wrong master key is refused before anything is restored.
    if CP_RESTORE_ADMIN_URL=$admin CP_MASTER_KEY=$(head -c 32 /dev/urandom | base64) scripts/restore "$data/backup" \
        2>/dev/null; then
        echo "scripts/restore accepted another master key" >&2
        exit 1
    fi
    CP_RESTORE_ADMIN_URL=$admin scripts/restore "$data/backup"
    CP_LOG_LEVEL=warning .build/debug/controlplane migrate

    log "backup round trip: Redis flushed, the restored server answers as before"
    REDISCLI_AUTH=$(cat "$data/redis/password") redis-cli -p "$(cat "$data/redis/port")" FLUSHALL >/dev/null
    serve serve "$data/restored-server.log"
    api same "$base" "$data/state.json" "$data/before.json"
    local seen
    seen=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$CP_DATABASE_URL" -c \
        "SELECT count(*) FROM jobs UNION ALL SELECT count(*) FROM webhook_deliveries UNION ALL SELECT count(*) FROM api_keys" \
        | tr '\n' ' ')
    [ "$seen" = "0 0 0 " ] || { echo "the application role sees rows with no tenant set: $seen" >&2; exit 1; }
    stop_servers

    log "backup round trip: the queued jobs come back from Postgres and run"
    serve all "$data/restored-server.log"
    api settled "$base" "$data/state.json" 4
    api snapshot "$base" "$data/state.json" "$data/restored.json"
    stop_servers

    log "master key rotation: servers on both keys, everything re-sealed, then the new key alone"
    local old_key=$CP_MASTER_KEY new_key counted
    new_key=$(head -c 32 /dev/urandom | base64)
    export CP_MASTER_KEY=$new_key CP_PREVIOUS_MASTER_KEY=$old_key
    serve all "$data/rotation-server.log"
    counted=$(CP_LOG_LEVEL=error .build/debug/controlplane master-key rotate --dry-run)
    echo "before: $counted"
    [[ "$counted" =~ ^([1-9][0-9]*)\ sealed\ with\ the\ previous\ key,\ 0\ with\ the\ current\ one,\ 0\ with\ neither$ ]] \
        || { echo "before the rotation: $counted" >&2; exit 1; }
    local sealed=${BASH_REMATCH[1]} rotated
    rotated=$(CP_LOG_LEVEL=error .build/debug/controlplane master-key rotate)
    echo "rotation: $rotated"
    [ "$rotated" = "re-sealed $sealed, already current 0, unreadable 0, changed meanwhile (run again) 0" ] \
        || { echo "the rotation said: $rotated" >&2; exit 1; }
    # Resumable: a second run finds nothing left to do.
    rotated=$(CP_LOG_LEVEL=error .build/debug/controlplane master-key rotate)
    [ "$rotated" = "re-sealed 0, already current $sealed, unreadable 0, changed meanwhile (run again) 0" ] \
        || { echo "a second rotation said: $rotated" >&2; exit 1; }
    # An idempotent call made before the rotation replays while the previous key is still configured.
    api replay "$base" "$data/state.json"
    stop_servers
    # Nothing opens with the old key any more.
    counted=$(CP_MASTER_KEY=$old_key CP_PREVIOUS_MASTER_KEY=$new_key CP_LOG_LEVEL=error \
        .build/debug/controlplane master-key rotate --dry-run)
    [ "$counted" = "$sealed sealed with the previous key, 0 with the current one, 0 with neither" ] \
        || { echo "with the old key as current: $counted" >&2; exit 1; }
    unset CP_PREVIOUS_MASTER_KEY
    serve all "$data/rotated-server.log"
    api same "$base" "$data/state.json" "$data/restored.json"
    api push "$base" "$data/state.json" three
    api settled "$base" "$data/state.json" 6
    api snapshot "$base" "$data/state.json" "$data/final.json"

    log "retention pass by hand, as of three years from now"
    local pruned
    pruned=$(CP_LOG_LEVEL=error .build/debug/controlplane retention prune --as-of "$(date -u -d '+3 years' +%Y-%m-%dT%H:%M:%SZ)")
    echo "$pruned"
    [[ "$pruned" == "pruned jobs 6, deliveries 3, usage records "* ]] || { echo "retention said: $pruned" >&2; exit 1; }
    api pruned "$base" "$data/state.json" "$data/final.json"
    stop_servers
    log "backup round trip, master key rotation and retention by hand: passed ($sealed secrets re-sealed)"
)
