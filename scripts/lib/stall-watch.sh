# Runs `swift test` with a watchdog. A test run whose output stops for STALL_SECONDS while the test
# process lives is stalled: the watchdog names the tests that started and never finished, kills the
# run, and the run is made once more. A second stall, or any failure, fails.
#
# Why: on this toolchain a loaded test process was found with every task suspended and nothing left to
# run them (libdispatch's continuous-clock timer expired and never read); the cause outside our code is
# still being narrowed down, and a stalled run proves nothing either way.

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

# Whether log $1 records a failed test for any reason but its time limit (a test past its time limit
# is the stall again, seen from inside: swift-testing's own timer fired where the test's did not).
log_has_failures() {
    python3 - "$1" <<'PY'
import re, sys
failed = False
for line in open(sys.argv[1], errors="replace"):
    if re.match(r".*✘ Test .* recorded an issue", line) and "Time limit was exceeded" not in line:
        failed = True
sys.exit(0 if failed else 1)
PY
}

# A `--filter` pattern of the tests that did not pass in any of the logs given (those still running
# when it stalled, past their time limit, or never started), so a run after a stall repeats only them:
# what passed has been shown to pass. With REMAINING_WITHIN (a regular expression), only the tests it
# matches count (a run that was limited to some suites).
remaining_filter() {
    python3 - <(swift test list --skip-build 2>/dev/null) "$@" <<'PY'
import os, re, sys
within = os.environ.get("REMAINING_WITHIN")
passed = set()
for log in sys.argv[2:]:
    for line in open(log, errors="replace"):
        m = re.match(r".*✔ Test (\S+?)\(", line)
        if m:
            passed.add(m.group(1))
remaining = []
for line in open(sys.argv[1]):
    test = line.strip()
    name = test.rsplit("/", 1)[-1].split("(", 1)[0]
    if test and name not in passed and (not within or re.search(within, test)):
        remaining.append(re.escape(test.split("(", 1)[0]))
print("|".join(remaining))
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
