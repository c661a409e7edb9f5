#!/usr/bin/env bash
# Every measured path once, each next to its baseline measured in the same run, in one table: path,
# figure, baseline, ratio, aim, and whether the aim holds. One release build serves every script (or
# CONTROLPLANE_BIN, a binary built elsewhere, for a before/after comparison). Bounded: the loads run
# DURATION seconds each (default 10), the runtime RUNTIME_DURATION (default 20) over a backlog of
# RUNTIME_BACKLOG jobs (default 20,000), the scale run SCALE_TENANTS tenants (default 10,000); in all a
# few minutes. ONLY (space-separated script names, e.g. "tenant-read gateway") runs a part. Never in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

export DURATION=${DURATION:-10}
ONLY=${ONLY:-tenant-read gateway webhook-ingest runtime interventions scale}
results=$(mktemp /tmp/controlplane-bench-results.XXXXXX)
logs=$(mktemp -d /tmp/controlplane-bench-logs.XXXXXX)
export BENCH_RESULTS=$results

bench_binary
export CONTROLPLANE_BIN=${CONTROLPLANE_BIN:-$(realpath "$binary")}

for part in $ONLY; do
    log "bench/$part.sh (log: $logs/$part.log)"
    case "$part" in
        runtime)
            DURATION=${RUNTIME_DURATION:-20} BACKLOG=${RUNTIME_BACKLOG:-20000} SPREAD_BACKLOG=${RUNTIME_SPREAD_BACKLOG:-2000} \
                bash "bench/$part.sh" > "$logs/$part.log" 2>&1 ;;
        scale)
            TENANTS=${SCALE_TENANTS:-10000} bash "bench/$part.sh" > "$logs/$part.log" 2>&1 ;;
        *)
            bash "bench/$part.sh" > "$logs/$part.log" 2>&1 ;;
    esac || { log "bench/$part.sh failed; its log:"; tail -n 30 "$logs/$part.log" >&2; }
done

printf '\n%s, %s, %s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(nproc) cores" "$(date -u +%FT%TZ)"
printf '| %s | %s | %s | %s | %s | %s |\n|---|---|---|---|---|---|\n' path figure baseline ratio aim holds
awk -F '\t' '{
    figure = $2 + 0; baseline = $3 + 0; aim = $4
    ratio = baseline > 0 ? figure / baseline : 0
    split(aim, part, /(>=|<=)/); target = part[2] + 0
    if (aim ~ /^ratio>=/) holds = ratio >= target
    else if (aim ~ /^ratio<=/) holds = ratio <= target
    else if (aim ~ /^diff<=/) { holds = figure - baseline <= target; ratio = figure - baseline }
    shown = aim ~ /^diff/ ? sprintf("%+.3f", ratio) : sprintf("%.2f", ratio)
    verdict = holds ? "yes" : "no"
    if (aim == "report") { shown = "-"; verdict = "-" }
    printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, shown, aim, verdict
}' "$results"
rm -f "$results"
