#!/usr/bin/env bash
# Whether the cost stays flat as tenants grow: the hot-path GET /v1/tenant (c16) and the gateway (c32,
# against the local fake upstream) with one tenant, then again with TENANTS tenants (default 10,000;
# each with its owner, its first key, a webhook endpoint, a policy, and usage rows left by the loads),
# the requests spread over every tenant's key. Prints both figures, their ratio, and the replica's
# resident memory idle with one tenant and after serving them all (MB per 1,000 tenants). Bounded: each
# load runs DURATION seconds; the tenants are made through the API at SETUP_CONCURRENCY (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

DURATION=${DURATION:-10}
TENANTS=${TENANTS:-10000}
SETUP_CONCURRENCY=${SETUP_CONCURRENCY:-16}
THREADS=${THREADS:-2}
bench_services

bench_binary

# Cheap password hashing and no signup throttle, so the tenants can be made quickly through the API.
bench_gateway_server CP_SIGNUPS_PER_HOUR_PER_ADDRESS=1000000 CP_ARGON2_MEMORY_KIB=8 CP_ARGON2_ITERATIONS=1 \
    CP_ARGON2_QUEUE_DEPTH=1000

# make_tenants FIRST COUNT: signs COUNT tenants up (each with a policy routing to the fake upstream and a
# webhook endpoint); appends their keys to $data/tokens.
make_tenants() {
    python3 - "$port" "$1" "$2" "$SETUP_CONCURRENCY" "$data/tokens" <<'PY'
import http.client, json, sys, threading
port, first, count, workers, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
policy = json.dumps({"routes": {"default": [{"provider": "openai", "model": "bench", "max_tokens": 256,
                                              "timeout_ms": 30000}]},
                     "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 10000000,
                     "cache": {"enabled": False, "ttl_seconds": 60}})
tokens, lock, failures = [], threading.Lock(), []

def call(conn, method, path, body, token=None):
    headers = {"content-type": "application/json"}
    if token: headers["authorization"] = "Bearer " + token
    conn.request(method, path, body, headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300: raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
    return json.loads(data) if data else None

def work(indices):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in indices:
        try:
            slug = f"scale-{i}"
            signup = call(conn, "POST", "/v1/signup", json.dumps({
                "organization_name": f"Scale {i}", "slug": slug, "admin_email": f"{slug}@example.test",
                "admin_password": "correct horse battery"}))
            token = signup["api_key"]["token"]
            call(conn, "PUT", "/v1/policy", policy, token)
            call(conn, "POST", "/v1/webhooks", json.dumps({"provider": "github", "pipelines": ["commitments"]}), token)
            with lock: tokens.append(token)
        except Exception as error:
            with lock: failures.append(str(error))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

indices = list(range(first, first + count))
threads = [threading.Thread(target=work, args=(indices[k::workers],)) for k in range(workers)]
for t in threads: t.start()
for t in threads: t.join()
if failures:
    print(f"{len(failures)} tenants failed, e.g. {failures[0]}", file=sys.stderr)
    sys.exit(1)
with open(out, "a") as f:
    for token in tokens: f.write(token + "\n")
PY
}

# A wrk script that spreads the requests over every key in $data/tokens (each thread from its own
# offset); `post` makes them chat completions.
cat > "$data/spread.lua" <<LUA
local tokens = {}
for line in io.lines("$data/tokens") do tokens[#tokens + 1] = line end
local counter = 0
local threads = 0
offset = 0
function setup(thread) threads = threads + 1; thread:set("offset", threads * 7919) end
function init(args) post = args[1] == "post" end
function request()
    counter = counter + 1
    local token = tokens[((counter + offset) % #tokens) + 1]
    if post then
        return wrk.format("POST", "/v1/llm/chat/completions", {["Authorization"] = "Bearer " .. token,
            ["Content-Type"] = "application/json"},
            '{"model": "openai/bench", "messages": [{"role": "user", "content": "Summarise."}], "max_tokens": 256}')
    end
    return wrk.format("GET", "/v1/tenant", {["Authorization"] = "Bearer " .. token})
end
LUA

# load CONCURRENCY [post]: requests per second (non-2xx answers counted as failures: the run stops).
load() {
    local output rps bad
    output=$(wrk -t "$THREADS" -c "$1" -d "${DURATION}s" -s "$data/spread.lua" "http://127.0.0.1:$port" -- "${2:-get}")
    rps=$(printf '%s\n' "$output" | awk '/Requests\/sec/ {print $2}')
    bad=$(printf '%s\n' "$output" | awk '/Non-2xx/ {print $5}')
    [ -z "$bad" ] || { printf '%s\n' "$output" >&2; echo "non-2xx answers under load" >&2; exit 1; }
    echo "$rps"
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$server_pid/status"; }

: > "$data/tokens"
make_tenants 0 1
load 16 get > /dev/null # warm-up
one_get=$(load 16 get)
one_gateway=$(load 32 post)
sleep 2
one_rss=$(rss_mb)

start=$(date +%s)
log "making $((TENANTS - 1)) more tenants"
make_tenants 1 "$((TENANTS - 1))"
log "made in $(( $(date +%s) - start )) s"
load 16 get > /dev/null # warm-up: every key verified once
many_get=$(load 16 get)
# Warm-up: every tenant's plan held once, as the one tenant's is after its first call (a tenant's first
# call reads its policy and credentials; at about 500 cold calls a second, 10,000 tenants take 20 s).
DURATION=$(( TENANTS / 400 + 2 )) load 32 post > /dev/null
many_gateway=$(load 32 post)
sleep 2
many_rss=$(rss_mb)

printf '\nscale: 1 tenant vs %d tenants (requests spread over every tenant'"'"'s key), %ss each\n' "$TENANTS" "$DURATION"
printf '%-44s %12s %12s %8s\n' "" "1 tenant" "$TENANTS" "ratio"
awk -v a="$one_get" -v b="$many_get" 'BEGIN { printf "%-44s %12.0f %12.0f %8.2f\n", "GET /v1/tenant, c16, req/s", a, b, b / a }'
awk -v a="$one_gateway" -v b="$many_gateway" 'BEGIN { printf "%-44s %12.0f %12.0f %8.2f\n", "gateway, c32, req/s", a, b, b / a }'
awk -v a="$one_rss" -v b="$many_rss" -v n="$TENANTS" 'BEGIN {
    printf "%-44s %12.1f %12.1f\n", "resident memory of the replica, MB", a, b
    printf "memory per 1,000 tenants: %.1f MB\n", (b - a) / ((n - 1) / 1000)
}'
bench_result "scale: hot-path GET c16, $TENANTS tenants (req/s vs 1 tenant)" "$many_get" "$one_get" "ratio>=0.9"
bench_result "scale: gateway c32, $TENANTS tenants (req/s vs 1 tenant)" "$many_gateway" "$one_gateway" "ratio>=0.9"
bench_result "memory: MB per 1,000 tenants (RSS after $TENANTS vs 1)" \
    "$(awk -v a="$one_rss" -v b="$many_rss" -v n="$TENANTS" 'BEGIN { printf "%.1f", (b - a) / ((n - 1) / 1000) }')" \
    "$one_rss" "report"
