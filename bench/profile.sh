#!/usr/bin/env bash
# Where a path's time goes: the release server under one load (`get`: GET /v1/tenant at c16; `gateway`:
# chat completions at c32 against the local fake upstream) for DURATION seconds while `perf record`
# samples every thread of the server, and Postgres's backends, with call graphs. Prints the top frames
# by their own samples and by the samples under them (inclusive), for the server and for Postgres, and
# keeps the folded stacks (`PROFILE_OUT`, default /tmp/controlplane-profile-<path>.folded) for any
# flame-graph tool. Bounded: one load of DURATION seconds (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/services.sh
. scripts/lib/bench.sh

path=${1:-get}
DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
out=${PROFILE_OUT:-/tmp/controlplane-profile-$path.folded}
bench_services

bench_binary
bench_gateway_server

token=$(bench_signup "$port")
bench_gateway_policy "$port" "$token"
cat > "$data/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model": "openai/bench", "messages": [{"role": "user", "content": "Summarise the change."}], "max_tokens": 256}'
LUA

case "$path" in
    get) load=(wrk -t "$THREADS" -c 16 -d "$((DURATION + 2))s" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/tenant") ;;
    gateway) load=(wrk -t "$THREADS" -c 32 -d "$((DURATION + 2))s" -s "$data/post.lua" -H "Authorization: Bearer $token"
        "http://127.0.0.1:$port/v1/llm/chat/completions") ;;
    *) echo "usage: bench/profile.sh get|gateway" >&2; exit 2 ;;
esac
"${load[@]}" > "$data/wrk.txt" &
load_pid=$!
sleep 1
perf record -F 499 -g -a -o "$data/perf.data" -- sleep "$DURATION" 2> "$data/perf.log"
wait "$load_pid"
awk '/Requests\/sec/' "$data/wrk.txt"

perf script -i "$data/perf.data" -F comm,pid,tid,ip,sym 2> /dev/null | swift demangle --simplified | python3 -c '
import collections, re, sys
out = sys.argv[1]
stacks, frames, comm = collections.Counter(), [], None
def flush():
    if comm and frames:
        stacks[(comm, tuple(reversed(frames)))] += 1
for line in sys.stdin:
    if not line.strip():
        flush(); frames, comm = [], None
    elif not line.startswith((" ", "\t")):
        flush(); frames = []
        fields = line.split()
        pid = next((f.split("/")[0] for f in fields[1:] if re.fullmatch(r"\d+/\d+", f)), "0")
        comm = "server" if pid == sys.argv[2] else fields[0]
    else:
        parts = line.strip().split(None, 1)
        symbol = re.sub(r"\+0x[0-9a-f]+$", "", parts[1].rsplit(" (", 1)[0]) if len(parts) > 1 else "?"
        frames.append(symbol[:160])
flush()
with open(out, "w") as f:
    for (comm, frames), n in stacks.items():
        f.write(";".join((comm,) + frames) + f" {n}\n")
for group, test in (("the server", lambda c: c == "server"),
                    ("Postgres", lambda c: c.startswith("postgres"))):
    own, under, total = collections.Counter(), collections.Counter(), 0
    for (comm, frames), n in stacks.items():
        if not test(comm): continue
        total += n
        own[frames[-1]] += n
        for symbol in set(frames): under[symbol] += n
    if not total: continue
    print(f"\n{group}: {total} samples; top frames by own samples")
    for symbol, n in own.most_common(15): print(f"  {100 * n / total:5.1f}%  {symbol}")
    print(f"{group}: top frames by samples under them")
    for symbol, n in under.most_common(25): print(f"  {100 * n / total:5.1f}%  {symbol}")
' "$out" "$server_pid"
log "folded stacks in $out"
