# Runs `swift test` with a watchdog. A test run whose output stops for STALL_SECONDS while the test
# process lives is stalled: the watchdog names the tests that started and never finished, prints what
# Postgres runs and every thread's stack (SIGABRT with SWIFT_BACKTRACE), kills the run, and the run fails.

STALL_SECONDS=${STALL_SECONDS:-120}

# Prints the tests of log $1 that started and have not finished.
unfinished_tests() {
    python3 - "$1" <<'PY'
import re, sys
started, done = [], set()
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r".*◇ Test (\S+?)\(.*started", line)
    if m and "case passing" not in line:
        started.append(m.group(1))
    m = re.match(r".*[✔✘] Test (\S+?)\(", line)
    if m:
        done.add(m.group(1))
print(" ".join(s for s in started if s not in done) or "(none)")
PY
}

# Runs `swift test --skip-build "$@"` once, line-buffered into log $1 and to standard output; answers 0
# when the tests pass, 1 when they fail, 2 when the run stalled.
run_tests_watched() {
    local log=$1 pid last size now
    shift
    : > "$log"
    stdbuf -oL -eL swift test --skip-build "$@" > >(tee -a "$log") 2>&1 &
    pid=$!
    last=$(date +%s)
    size=0
    while kill -0 "$pid" 2>/dev/null; do
        sleep 5
        now=$(date +%s)
        if [ "$(stat -c %s "$log")" != "$size" ]; then
            size=$(stat -c %s "$log")
            last=$now
        elif [ $((now - last)) -ge "$STALL_SECONDS" ]; then
            log "test run stalled for ${STALL_SECONDS}s; unfinished: $(unfinished_tests "$log")"
            # The stacks of every thread (SWIFT_BACKTRACE, set by scripts/test) and what Postgres runs, so
            # a stall can be read from the log.
            psql "${CP_MIGRATION_DATABASE_URL:-}" -X -c "SELECT application_name, state, wait_event,
                now() - state_change AS for, left(query, 60) FROM pg_stat_activity WHERE datname = current_database()" \
                2>/dev/null | tee -a "$log" || true
            pkill -ABRT -f 'PackageTests.xctest' 2>/dev/null || true
            sleep 15
            pkill -9 -f 'PackageTests.xctest' 2>/dev/null || true
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            return 2
        fi
    done
    wait "$pid" && return 0 || return 1
}
