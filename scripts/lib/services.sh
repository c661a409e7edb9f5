# Shared by scripts/dev and scripts/test: installs what a fresh Debian lacks, then starts a private
# Postgres and Redis on loopback ports in a data folder, with generated credentials.
# shellcheck shell=bash

log() { printf '\033[1m[controlplane]\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages the build, the server and the tests need, when any is missing.
ensure_packages() {
    local wanted=(postgresql redis-server libhiredis-dev libargon2-dev pkg-config wrk curl python3 python3-venv "$@")
    local missing=()
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    # Debian starts a system-wide cluster and Redis on the default ports; ours use their own ports.
}

# Prints the folder holding initdb and pg_ctl (Debian keeps them out of PATH).
postgres_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
    dirname "$(command -v initdb)"
}

# A free TCP port on 127.0.0.1, below the kernel's range for outgoing connections (32768 and up on
# Linux), so no client connection of the tests can hold it when a server is started on it.
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "no free port found" >&2
    return 1
}

# Runs a command as the user that owns the Postgres cluster (initdb refuses to run as root).
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Picks the Postgres data folder: DIR itself when the postgres user can reach it, else a fresh folder
# made by mktemp under /tmp (never a predictable name another local user could create first). The
# choice is remembered in DIR/cluster-path, so a restart finds the same cluster.
postgres_home() {
    local wanted=$1
    mkdir -p "$wanted"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$wanted"; then
        local fallback=""
        if [ -f "$wanted/cluster-path" ]; then fallback=$(cat "$wanted/cluster-path"); fi
        if [ -z "$fallback" ] || [ ! -d "$fallback" ] || [ "$(stat -c %U "$fallback")" != postgres ]; then
            fallback=$(mktemp -d /tmp/controlplane-pg.XXXXXXXXXX)
            echo "$fallback" > "$wanted/cluster-path"
        fi
        log "postgres cannot reach $wanted; using $fallback"
        echo "$fallback"
    else
        echo "$wanted"
    fi
}

# start_postgres DATA_DIR PORT: initialises (first time) and starts a cluster on 127.0.0.1:PORT, creates
# the owner role, the application role and the database, and writes their URLs to DATA_DIR/env.
start_postgres() {
    local data=$1 port=$2 bindir cluster
    bindir=$(postgres_bindir)
    cluster=$(postgres_home "$data/postgres")
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$cluster"
    chmod 700 "$cluster"
    if [ ! -f "$cluster/PG_VERSION" ]; then
        log "initialising Postgres in $cluster"
        as_postgres "$bindir/initdb" -D "$cluster" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
            -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_postgres "$bindir/pg_ctl" -D "$cluster" status >/dev/null 2>&1; then
        as_postgres "$bindir/pg_ctl" -D "$cluster" -l "$cluster/server.log" -w -t 60 start \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c max_connections=${PG_MAX_CONNECTIONS:-200} -c fsync=${PG_FSYNC:-on} ${PG_OPTIONS:-}" >/dev/null
    fi
    port=$(sed -n 4p "$cluster/postmaster.pid")
    local psql=(as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -p "$port" -U postgres)
    if [ ! -f "$data/postgres.env" ]; then
        local owner_password app_password
        owner_password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
        app_password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
        "${psql[@]}" -d postgres <<SQL
CREATE ROLE controlplane_owner LOGIN PASSWORD '$owner_password';
CREATE ROLE controlplane_app LOGIN PASSWORD '$app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE DATABASE controlplane OWNER controlplane_owner;
REVOKE ALL ON DATABASE controlplane FROM PUBLIC;
GRANT CONNECT ON DATABASE controlplane TO controlplane_app;
SQL
        (umask 077; cat > "$data/postgres.env" <<ENV
CP_OWNER_PASSWORD=$owner_password
CP_APP_PASSWORD=$app_password
ENV
        )
    fi
    # shellcheck disable=SC1091
    . "$data/postgres.env"
    export CP_DATABASE_URL="postgres://controlplane_app:$CP_APP_PASSWORD@127.0.0.1:$port/controlplane"
    export CP_MIGRATION_DATABASE_URL="postgres://controlplane_owner:$CP_OWNER_PASSWORD@127.0.0.1:$port/controlplane"
    export CP_POSTGRES_CLUSTER="$cluster" CP_POSTGRES_PORT=$port
    log "Postgres on 127.0.0.1:$port"
}

# start_outage_postgres DATA_DIR PORT: a second Postgres cluster, for the tests that restart and stop
# Postgres under a running server (PostgresOutageTests) without disturbing the tests on the first one.
# Exports CP_OUTAGE_DATABASE_URL, CP_OUTAGE_MIGRATION_DATABASE_URL, CP_OUTAGE_POSTGRES_CLUSTER and
# CP_POSTGRES_BINDIR; migrate it with migrate_outage_postgres once the binary is built.
start_outage_postgres() {
    local data=$1 port=$2 values
    mkdir -p "$data"
    chmod 755 "$data"
    values=$(
        PG_MAX_CONNECTIONS=100 start_postgres "$data" "$port" 2>/dev/null
        echo "$CP_DATABASE_URL $CP_MIGRATION_DATABASE_URL $CP_POSTGRES_CLUSTER"
    )
    read -r CP_OUTAGE_DATABASE_URL CP_OUTAGE_MIGRATION_DATABASE_URL CP_OUTAGE_POSTGRES_CLUSTER <<< "$values"
    CP_POSTGRES_BINDIR=$(postgres_bindir)
    export CP_OUTAGE_DATABASE_URL CP_OUTAGE_MIGRATION_DATABASE_URL CP_OUTAGE_POSTGRES_CLUSTER CP_POSTGRES_BINDIR
    log "a second Postgres, for the outage tests, in $CP_OUTAGE_POSTGRES_CLUSTER"
}

# make_test_template: copies the migrated `controlplane` database to the template `controlplane_template`,
# which each test suite clones into a database of its own (Tests/ControlPlaneTests/Support/SuiteDatabases.swift),
# and lets the owner role of this test cluster create databases. Exports CP_TEST_TEMPLATE_DATABASE.
make_test_template() {
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -U postgres -d postgres <<SQL
ALTER ROLE controlplane_owner CREATEDB;
DO \$\$ BEGIN
    IF EXISTS (SELECT FROM pg_database WHERE datname = 'controlplane_template') THEN
        ALTER DATABASE controlplane_template IS_TEMPLATE false;
    END IF;
END \$\$;
DROP DATABASE IF EXISTS controlplane_template;
CREATE DATABASE controlplane_template TEMPLATE controlplane OWNER controlplane_owner IS_TEMPLATE true;
SQL
    export CP_TEST_TEMPLATE_DATABASE=controlplane_template
}

# drop_suite_databases: drops the databases test suites cloned from the template (for a cluster that
# outlives one run: soak-tests). Run it only when no test process is running.
drop_suite_databases() {
    local name dropping=()
    # Eight at a time: every DROP DATABASE waits for a checkpoint, and checkpoints asked for together are
    # made once, so the drops share them (one at a time, ~670 of them took ten minutes on a loaded machine).
    for name in $(as_postgres psql -X -A -t -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -U postgres -d postgres \
        -c "SELECT datname FROM pg_database WHERE datname LIKE 'cp\\_suite\\_%'"); do
        as_postgres psql -X -q -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -U postgres -d postgres \
            -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null &
        dropping+=("$!")
        if [ "${#dropping[@]}" -ge 8 ]; then
            wait "${dropping[@]}"
            dropping=()
        fi
    done
    [ "${#dropping[@]}" = 0 ] || wait "${dropping[@]}"
}

migrate_outage_postgres() {
    CP_DATABASE_URL=$CP_OUTAGE_DATABASE_URL CP_MIGRATION_DATABASE_URL=$CP_OUTAGE_MIGRATION_DATABASE_URL \
        CP_LOG_LEVEL=warning .build/debug/controlplane migrate
}

stop_outage_postgres() {
    [ -n "${CP_OUTAGE_POSTGRES_CLUSTER:-}" ] || return 0
    as_postgres "$(postgres_bindir)/pg_ctl" -D "$CP_OUTAGE_POSTGRES_CLUSTER" -m immediate -w stop >/dev/null 2>&1 || true
}

stop_postgres() {
    [ -n "${CP_POSTGRES_CLUSTER:-}" ] || return 0
    as_postgres "$(postgres_bindir)/pg_ctl" -D "$CP_POSTGRES_CLUSTER" -m fast -w stop >/dev/null 2>&1 || true
}

# start_redis DATA_DIR PORT: a Redis on 127.0.0.1:PORT with its files in DATA_DIR/redis, protected by a
# password generated once per data folder (kept in DATA_DIR/redis/password, readable by its owner only,
# and given to redis-server in a config file, not on the command line where `ps` would show it).
start_redis() {
    local data=$1 port=$2
    mkdir -p "$data/redis"
    chmod 700 "$data/redis"
    if [ ! -f "$data/redis/password" ]; then
        (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$data/redis/password")
    fi
    local password
    password=$(cat "$data/redis/password")
    if [ -f "$data/redis/redis.pid" ] && kill -0 "$(cat "$data/redis/redis.pid")" 2>/dev/null; then
        port=$(cat "$data/redis/port")
    else
        (umask 077; printf 'requirepass %s\n' "$password" > "$data/redis/auth.conf")
        redis-server "$data/redis/auth.conf" --bind 127.0.0.1 --port "$port" --dir "$data/redis" --daemonize yes \
            --pidfile "$data/redis/redis.pid" --logfile "$data/redis/redis.log" --appendonly yes \
            --maxmemory "${CP_REDIS_MAXMEMORY:-1gb}" --maxmemory-policy volatile-ttl \
            --protected-mode yes >/dev/null
        echo "$port" > "$data/redis/port"
        for _ in $(seq 1 50); do
            REDISCLI_AUTH=$password redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
            sleep 0.1
        done
    fi
    export CP_REDIS_URL="redis://:$password@127.0.0.1:$port" CP_REDIS_PIDFILE="$data/redis/redis.pid"
    log "Redis on 127.0.0.1:$port (password in $data/redis/password)"
}

stop_redis() {
    [ -n "${CP_REDIS_PIDFILE:-}" ] && [ -f "$CP_REDIS_PIDFILE" ] || return 0
    kill "$(cat "$CP_REDIS_PIDFILE")" 2>/dev/null || true
}

# The master key that seals secrets at rest, generated once per data folder.
ensure_master_key() {
    local data=$1
    if [ -z "${CP_MASTER_KEY:-}" ]; then
        if [ ! -f "$data/master.key" ]; then (umask 077; head -c 32 /dev/urandom | base64 > "$data/master.key"); fi
        CP_MASTER_KEY=$(cat "$data/master.key")
        export CP_MASTER_KEY
    fi
}

# stop_processes PID...: SIGTERM, up to 15 s to exit, then SIGKILL, so a bench or test never leaves a
# process behind (one waiting for a Postgres that is about to be stopped, say).
stop_processes() {
    local pid
    for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 30); do
        local alive=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && return 0
        sleep 0.5
    done
    for pid in "$@"; do kill -9 "$pid" 2>/dev/null || true; done
}

# start_redis_cluster DATA_DIR: a Redis Cluster of three masters (no replicas) on free loopback ports,
# with its files in DATA_DIR/redis-cluster, a password like start_redis's, append-only files, and
# `cluster-require-full-coverage no` (a master that is down stops its own slots, not the others').
# Exports CP_REDIS_CLUSTER_URL (redis-cluster://:password@127.0.0.1:PORT) and CP_REDIS_CLUSTER_DIR.
start_redis_cluster() {
    local data=$1/redis-cluster password port ports=() bus
    mkdir -p "$data"
    chmod 700 "$data"
    [ -f "$data/password" ] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$data/password")
    password=$(cat "$data/password")
    (umask 077; printf 'requirepass %s\nmasterauth %s\n' "$password" "$password" > "$data/auth.conf")
    while [ "${#ports[@]}" -lt 3 ]; do
        port=$(free_port)
        bus=$(free_port)
        # Each node's cluster bus gets a port of its own (by default port + 10000, which may be in use).
        if [ "$bus" = "$port" ] || [[ " ${ports[*]} " == *" $port "* ]]; then continue; fi
        mkdir -p "$data/$port"
        redis-server "$data/auth.conf" --bind 127.0.0.1 --port "$port" --cluster-port "$bus" --dir "$data/$port" --daemonize yes \
            --pidfile "$data/$port/redis.pid" --logfile "$data/$port/redis.log" --appendonly yes \
            --maxmemory "${CP_REDIS_MAXMEMORY:-1gb}" --maxmemory-policy volatile-ttl \
            --protected-mode yes --cluster-enabled yes --cluster-config-file "$data/$port/nodes.conf" \
            --cluster-node-timeout 2000 --cluster-require-full-coverage no >/dev/null
        ports+=("$port")
    done
    for port in "${ports[@]}"; do
        for _ in $(seq 1 50); do
            REDISCLI_AUTH=$password redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
            sleep 0.1
        done
    done
    REDISCLI_AUTH=$password redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 \
        --cluster-yes >/dev/null
    for _ in $(seq 1 100); do
        REDISCLI_AUTH=$password redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
        sleep 0.1
    done
    echo "${ports[*]}" > "$data/ports"
    export CP_REDIS_CLUSTER_URL="redis-cluster://:$password@127.0.0.1:${ports[0]}" CP_REDIS_CLUSTER_DIR=$data
    log "Redis Cluster of three masters on 127.0.0.1:${ports[*]}"
}

stop_redis_cluster() {
    [ -n "${CP_REDIS_CLUSTER_DIR:-}" ] && [ -f "$CP_REDIS_CLUSTER_DIR/ports" ] || return 0
    local port
    for port in $(cat "$CP_REDIS_CLUSTER_DIR/ports"); do
        [ -f "$CP_REDIS_CLUSTER_DIR/$port/redis.pid" ] && kill "$(cat "$CP_REDIS_CLUSTER_DIR/$port/redis.pid")" 2>/dev/null
    done
    return 0
}
