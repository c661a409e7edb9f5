#!/usr/bin/env bash
# One tenant cannot hurt another, measured: tenant B's p50/p99 for a hot-path GET, a gateway call on
# `mock` and a push until its analysis succeeded, alone and while tenant A runs each attack, in ROUNDS
# (default 3) rounds per attack of PHASE seconds (default 12) alone then PHASE seconds attacked, each
# baseline taken just before its attack so drift over the run falls on both sides. The attacks: A's
# own upstream trickling under a backlog of its pushes, streams from its flooding upstream that its
# client never reads, 25 MiB bodies to its webhook URL on sixteen connections, a login flood on its
# admin, and gateway calls at its rate limit; last, the bare limit of a request flood: as many clients
# asking for a path that does not exist. Each attack runs in a process of its own at nice 19
# (ATTACKER_NICE), standing in for a client on another machine, not as threads beside B's probes (which
# would wait for Python's interpreter lock). Prints A's requests a second, B's p99 under each attack
# divided by B's p99 alone (the rounds' samples pooled, aim <= 1.5; and the lowest and highest single
# round's ratio) and by B's p99 under the bare flood (what our own work adds), and the peak RSS growth
# of the API server and the worker (aim <= 200 MB). About 10 minutes at the defaults.
# After each attack A's policy goes back to `mock` and the bench waits (at most 120 s) until A has no
# open job, so no attack's leftovers (a trickling backlog) run into the next phase.
# ONLY=word,word runs only the attacks whose names hold one of the words (and the bare limit). Release
# build, API and worker as separate processes, a private Postgres and Redis; A's upstream is
# bench/hostile_upstream.py on loopback (allowed by CP_PROVIDER_URL_ALLOWLIST).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

PHASE=${PHASE:-12}
bench_services
bench_binary

CP_LOG_LEVEL=warning $binary migrate
port=$(free_port)
hostile=$(free_port)
python3 bench/hostile_upstream.py "$hostile" & pids+=($!)
# B's probes make about 35 requests a second: the default rate limit would refuse them, not the attack.
export CP_DEFAULT_REQUESTS_PER_MINUTE=3000 CP_DEFAULT_BURST=200 CP_LOG_LEVEL=warning \
    CP_PROVIDER_URL_ALLOWLIST=127.0.0.1
CP_HTTP_PORT=$port CP_WORKER_CONCURRENCY=0 $binary serve > "$data/server.log" 2>&1 & pids+=($!)
server_pid=$!
CP_WORKER_CONCURRENCY=${SLOTS:-8} $binary worker > "$data/worker.log" 2>&1 & pids+=($!)
worker_pid=$!
wait_for "http://127.0.0.1:$port/healthz"

log "tenant B alone, then under each of tenant A's attacks: ${ROUNDS:-3} rounds of ${PHASE}s alone, ${PHASE}s attacked"
python3 bench/noisy_neighbor.py "$port" "$hostile" "$PHASE" "$server_pid" "$worker_pid"
