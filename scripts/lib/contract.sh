# The contract suite: the live server checked against openapi.yaml by schemathesis (--checks all, every
# operation), driven by a Python client that openapi-python-client generates from the same file, and its
# admin console driven in Debian's headless Chromium by Selenium. The tools (and kubernetes-validate for
# scripts/lib/infra.sh) come from PyPI into a virtual environment kept in .build_contract/.
# shellcheck shell=bash

# Prints the venv's bin folder, creating the venv and installing the pinned tools when needed.
contract_tools() {
    local venv=.build_contract/venv
    if [ ! -x "$venv/bin/st" ] || [ ! -x "$venv/bin/openapi-python-client" ] \
        || [ ! -x "$venv/bin/kubernetes-validate" ] || ! "$venv/bin/python" -c 'import openai, yaml, selenium' 2>/dev/null; then
        log "installing schemathesis, openapi-python-client, openai, selenium and kubernetes-validate into $venv"
        python3 -m venv "$venv" >&2
        "$venv/bin/pip" install -q --disable-pip-version-check \
            "schemathesis==4.32.5" "openapi-python-client==0.29.1" "openai>=1.40,<3" "kubernetes-validate==1.37.0" \
            "selenium==4.25.0" "PyYAML>=6" >&2
    fi
    echo "$venv/bin"
}

# expect_status CODE URL TOKEN: fails unless GET URL with the bearer TOKEN answers CODE.
expect_status() {
    local got
    got=$(curl -s -o /dev/null -w '%{http_code}' "$2" -H "Authorization: Bearer $3")
    [ "$got" = "$1" ] || { echo "GET $2 answered $got, expected $1" >&2; return 1; }
}

# contract_tenant_token BASE_URL: signs up a new tenant and prints its owner's login access token.
contract_tenant_token() {
    local slug="st-$RANDOM$RANDOM"
    curl -fs -X POST "$1/v1/signup" -H 'content-type: application/json' -d "{\"organization_name\":\"Contract\",
        \"slug\":\"$slug\",\"admin_email\":\"$slug@example.test\",\"admin_password\":\"correct horse battery\"}" >/dev/null
    curl -fs -X POST "$1/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$slug@example.test\",\"password\":\"correct horse battery\"}" \
        | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p'
}

# run_contract DATA_DIR: starts the built server on a free port, signs up a tenant, then runs the Python
# client check and schemathesis against it. Fails when either finds anything. Its refusals go at once
# (CP_REFUSAL_PACING_MS=0): pausing them changes no answer, only how long thousands of cases take.
run_contract() {
    local data=$1 bin port server_pid status=0
    bin=$(contract_tools)
    port=$(free_port)
    # The mock model gets a price (read as the server starts), so the console's usage charts have a cost.
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$CP_POSTGRES_CLUSTER" -p "$CP_POSTGRES_PORT" -U postgres \
        -d controlplane -c "INSERT INTO model_prices (provider, model, input_micros_per_mtok, output_micros_per_mtok)
            VALUES ('mock', 'mock-1', 2000000, 8000000) ON CONFLICT (provider, model) DO NOTHING" || status=1
    # GitHub sign-in against a local fake of GitHub's OAuth flow and API (the console's flow uses it).
    local github_port github_pid
    github_port=$(free_port)
    "$bin/python" Tests/console/fake_github.py "$github_port" Iv1.console console-client-secret &
    github_pid=$!
    CP_GITHUB_CLIENT_ID=Iv1.console CP_GITHUB_CLIENT_SECRET=console-client-secret \
        CP_GITHUB_REDIRECT_URL="http://127.0.0.1:$port/v1/auth/github/callback" \
        CP_GITHUB_OAUTH_URL="http://127.0.0.1:$github_port" CP_GITHUB_API_URL="http://127.0.0.1:$github_port" \
        CP_HTTP_PORT=$port CP_LOG_LEVEL=warning CP_SIGNUPS_PER_HOUR_PER_ADDRESS=1000000 \
        CP_LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS=1000000 CP_LOGIN_ATTEMPTS_PER_MINUTE=1000000 \
        CP_DEFAULT_REQUESTS_PER_MINUTE=1000000 CP_DEFAULT_BURST=1000000 CP_PENDING_JOBS_INTERVAL_SECONDS=1 \
        CP_REFUSAL_PACING_MS=0 .build/debug/controlplane serve > "$data/contract-server.log" 2>&1 &
    server_pid=$!
    local base="http://127.0.0.1:$port" up=0
    for _ in $(seq 1 150); do curl -fs --max-time 2 "$base/healthz" >/dev/null && { up=1; break; }; sleep 0.2; done
    if [ "$up" = 0 ]; then
        echo "the contract server never answered on $base; its log:" >&2
        tail -n 40 "$data/contract-server.log" >&2
        kill "$server_pid" "$github_pid" 2>/dev/null || true
        return 1
    fi

    log "contract: generated Python client"
    rm -rf "$data/pyclient" && mkdir -p "$data/pyclient"
    "$bin/openapi-python-client" generate --path openapi.yaml --output-path "$data/pyclient/cpclient" \
        --meta none >"$data/pyclient.log" 2>&1 || { cat "$data/pyclient.log" >&2; status=1; }
    if [ $status = 0 ]; then
        PYTHONPATH="$data/pyclient" "$bin/python" Tests/contract/python_client_check.py "$base" || status=1
    fi

    log "contract: the official openai client through the gateway"
    "$bin/python" Tests/contract/openai_client_check.py "$base" "$(contract_tenant_token "$base")" || status=1

    log "contract: the admin console in a real browser (screenshots in .build/test-output/console)"
    rm -rf .build/test-output/console  # this run's screenshots only, none of an earlier failure
    # A worker runs the pushes' jobs and the intervention scheduler meanwhile (looking every second).
    local console_worker
    CP_WORKER_HTTP_PORT=$(free_port) CP_INTERVENTION_POLL_SECONDS=1 CP_LOG_LEVEL=warning \
        .build/debug/controlplane worker > "$data/console-worker.log" 2>&1 &
    console_worker=$!
    CP_CONSOLE_GITHUB="http://127.0.0.1:$github_port" \
        CP_CONSOLE_OPERATOR_TOKEN=$(CP_LOG_LEVEL=error .build/debug/controlplane operator-token --subject console --ttl 3600) \
        "$bin/python" Tests/console/console_flows.py "$base" .build/test-output/console || status=1
    kill "$console_worker" 2>/dev/null || true
    wait "$console_worker" 2>/dev/null || true

    log "contract: schemathesis --checks all"
    # A tenant for every route, and another whose own rate limit schemathesis may shrink at will.
    CP_ST_TENANT_TOKEN=$(contract_tenant_token "$base")
    CP_ST_THROTTLED_TOKEN=$(contract_tenant_token "$base")
    CP_ST_OPERATOR_TOKEN=$(CP_LOG_LEVEL=error .build/debug/controlplane operator-token --subject contract --ttl 3600)
    export CP_ST_TENANT_TOKEN CP_ST_THROTTLED_TOKEN CP_ST_OPERATOR_TOKEN
    (cd Tests/contract && "../../$bin/st" run ../../openapi.yaml --url "$base" --checks all \
        --max-examples "${CP_CONTRACT_EXAMPLES:-60}" --workers 1 --no-color) || status=1

    log "contract: operator commands against the live server"
    local operator
    operator=$(CP_LOG_LEVEL=error .build/debug/controlplane operator-token --subject contract-revoke --ttl 600)
    expect_status 200 "$base/v1/admin/tenants?limit=1" "$operator" || status=1
    CP_LOG_LEVEL=error .build/debug/controlplane operator-token revoke "$operator" >/dev/null || status=1
    expect_status 401 "$base/v1/admin/tenants?limit=1" "$operator" || status=1
    CP_LOG_LEVEL=error .build/debug/controlplane signing-key rotate --activate-after 0 >/dev/null || status=1
    sleep 1
    local kids
    kids=$(curl -fs "$base/.well-known/jwks.json" | grep -o '"kid"' | wc -l)
    [ "$kids" -ge 2 ] || { echo "after a rotation the JWKS lists $kids keys" >&2; status=1; }
    expect_status 200 "$base/v1/admin/tenants?limit=1" "$CP_ST_OPERATOR_TOKEN" || status=1

    log "contract: every metric the alert rules and the dashboard name is served (API and a worker, after a push)"
    local worker_port worker_pid
    "$bin/python" Tests/contract/metrics_coverage.py push "$base" "$(contract_tenant_token "$base")" || status=1
    # Counted while no worker runs, so the pending jobs are seen before a worker takes them.
    "$bin/python" Tests/contract/metrics_coverage.py seen background_jobs_pending "$base/metrics" || status=1
    worker_port=$(free_port)
    CP_WORKER_HTTP_PORT=$worker_port CP_LOG_LEVEL=warning .build/debug/controlplane worker \
        > "$data/contract-worker.log" 2>&1 &
    worker_pid=$!
    "$bin/python" Tests/contract/metrics_coverage.py check infra/prometheus/alerts.yml infra/grafana/controlplane.json -- \
        "$base/metrics" "http://127.0.0.1:$worker_port/metrics" || status=1
    kill "$worker_pid" 2>/dev/null || true
    wait "$worker_pid" 2>/dev/null || true

    kill "$server_pid" "$github_pid" 2>/dev/null || true
    wait "$server_pid" "$github_pid" 2>/dev/null || true
    return $status
}
