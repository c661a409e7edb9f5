#!/usr/bin/env bash
# The LLM gateway under load: POST /v1/llm/chat/completions (key, rate limit, policy, budget reserve and
# charge to the ledger, the provider call) against a local fake OpenAI upstream, next to LiteLLM's proxy
# (PyPI `litellm[proxy]`, in a virtualenv this script makes) pointed at the same upstream, and the
# upstream alone, all in the same run, at each concurrency of CONCURRENCIES (default "1 32"). Prints
# requests per second, p50 and p99, the ratio to LiteLLM, and the latency the gateway adds at one
# connection next to what the durable statements of a call take bare at one connection (pgbench,
# prepared: the rate-limit take, the budget reservation, the ledger row that settles it). Also GET /healthz
# of the same server at the same concurrency: what the HTTP stack alone serves, with no key, no database
# and no upstream call, a ceiling for the gateway. Bounded: each load runs DURATION seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

DURATION=${DURATION:-10}
CONCURRENCIES=${CONCURRENCIES:-1 32}
THREADS=${THREADS:-2}
bench_services

venv=.build_bench/litellm
if [ ! -x "$venv/bin/litellm" ]; then
    log "installing litellm[proxy] into $venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "litellm[proxy]" >&2
fi

bench_binary
bench_gateway_server

litellm_port=$(free_port)
cat > "$data/litellm.yaml" <<YAML
model_list:
  - model_name: openai/bench
    litellm_params:
      model: openai/bench
      api_base: http://127.0.0.1:$upstream/v1
      api_key: sk-bench
YAML
litellm_key="sk-bench-$RANDOM$RANDOM$RANDOM"
LITELLM_MASTER_KEY=$litellm_key LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR "$venv/bin/litellm" --config "$data/litellm.yaml" \
    --host 127.0.0.1 --port "$litellm_port" --num_workers "${LITELLM_WORKERS:-2}" > "$data/litellm.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$litellm_port/health/liveliness" || { cat "$data/litellm.log" >&2; exit 1; }

token=$(bench_signup "$port")
bench_gateway_policy "$port" "$token"
tenant=$(curl -fs "http://127.0.0.1:$port/v1/tenant" -H "Authorization: Bearer $token" \
    | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -X PUT "http://127.0.0.1:$port/v1/budget" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"period": "month", "token_limit": 2000000000}' > /dev/null

cat > "$data/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "openai/bench", "messages": [{"role": "user", "content": "Summarise the change."}], "max_tokens": 256}'
LUA
echo 'wrk.method = "GET"' > "$data/get.lua"

run_wrk() {
    local concurrency=$1 output rps p50 p99
    shift
    output=$(wrk -t "$(( concurrency < THREADS ? concurrency : THREADS ))" -c "$concurrency" -d "${DURATION}s" \
        --latency -s "${WRK_SCRIPT:-$data/post.lua}" "$@")
    rps=$(printf '%s\n' "$output" | awk '/Requests\/sec/ {print $2}')
    p50=$(printf '%s\n' "$output" | awk '$1 == "50%" {print $2}')
    p99=$(printf '%s\n' "$output" | awk '$1 == "99%" {print $2}')
    non2xx=$(printf '%s\n' "$output" | awk '/Non-2xx/ {print $5}')
    echo "$rps $p50 $p99 ${non2xx:-0}"
}

# The durable statements of one call, bare, at one connection: their p50 in milliseconds.
cat > "$data/call.sql" <<SQL
SELECT gen_random_uuid() AS rid \\gset
SELECT allowed FROM rate_limit_take('$tenant');
SELECT granted FROM budget_reserve('$tenant', :rid, 256, 1, 60, NULL::timestamptz);
SELECT record_id FROM budget_record_usage('$tenant', :rid, true, 'bench', NULL::uuid, 'gateway', 'openai', 'bench',
    12, 24, 0, 36, false, 0);
SQL
bare_call_p50() {
    rm -f "$data"/pgb-call.*
    (cd "$data" && PGPASSWORD=${CP_APP_PASSWORD} pgbench -n -h 127.0.0.1 -p "$CP_POSTGRES_PORT" -U controlplane_app \
        -c 1 -j 1 -T "$DURATION" -M prepared --log --log-prefix=pgb-call -f "$data/call.sql" controlplane > /dev/null)
    cat "$data"/pgb-call.* | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {printf "%.3f", v[int((NR + 1) / 2)] / 1000}'
}

for concurrency in $CONCURRENCIES; do
    read -r gw_rps gw_p50 gw_p99 gw_bad < <(run_wrk "$concurrency" -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/v1/llm/chat/completions")
    read -r ll_rps ll_p50 ll_p99 ll_bad < <(run_wrk "$concurrency" -H "Authorization: Bearer $litellm_key" \
        "http://127.0.0.1:$litellm_port/v1/chat/completions")
    read -r up_rps up_p50 up_p99 up_bad < <(run_wrk "$concurrency" "http://127.0.0.1:$upstream/v1/chat/completions")
    read -r hz_rps hz_p50 hz_p99 hz_bad < <(WRK_SCRIPT="$data/get.lua" run_wrk "$concurrency" "http://127.0.0.1:$port/healthz")
    printf '\n%-46s %10s %10s %10s %8s\n' "chat/completions, $concurrency connection(s), ${DURATION}s" "req/s" "p50" "p99" "non-2xx"
    printf '%-46s %10s %10s %10s %8s\n' "ControlPlane gateway" "$gw_rps" "$gw_p50" "$gw_p99" "$gw_bad"
    printf '%-46s %10s %10s %10s %8s\n' "LiteLLM proxy (same upstream)" "$ll_rps" "$ll_p50" "$ll_p99" "$ll_bad"
    printf '%-46s %10s %10s %10s %8s\n' "baseline: the fake upstream alone" "$up_rps" "$up_p50" "$up_p99" "$up_bad"
    printf '%-46s %10s %10s %10s %8s\n' "ceiling: GET /healthz of the same server" "$hz_rps" "$hz_p50" "$hz_p99" "$hz_bad"
    added=$(awk -v gp="$(millis "$gw_p50")" -v up="$(millis "$up_p50")" 'BEGIN { printf "%.3f", gp - up }')
    awk -v g="$gw_rps" -v l="$ll_rps" -v u="$up_rps" -v h="$hz_rps" -v added="$added" 'BEGIN {
        printf "ratio gateway / LiteLLM: %.1fx; gateway / upstream alone: %.2f; gateway p50 adds %.3f ms to the upstream'"'"'s\n", g / l, g / u, added
        printf "ceiling: /healthz / upstream alone: %.2f; gateway / healthz: %.2f\n", h / u, g / h
    }'
    if [ "$concurrency" = 1 ]; then
        bare=$(bare_call_p50)
        printf 'baseline: the durable statements of a call bare (pgbench, 1 connection): p50 %s ms\n' "$bare"
        bench_result "gateway added latency, c1 (p50 ms vs bare reserve+settle)" "$added" "$bare" "diff<=0.5"
    else
        bench_result "gateway, c$concurrency (req/s vs the upstream called directly)" "$gw_rps" "$up_rps" "ratio>=0.7"
        bench_result "gateway, c$concurrency (req/s vs LiteLLM)" "$gw_rps" "$ll_rps" "ratio>=10"
    fi
done
