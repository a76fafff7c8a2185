# shellcheck shell=bash disable=SC2034  # variables here are read by the scripts sourcing it
# bench/lib.sh: shell helpers shared by the bench/*.sh scripts.
# Source it from bash; it only defines functions and a few variables.
#
# Servers are started in their own session (setsid), so stopping one stops
# every process it forked (the fork and prefork models). Each one is
# remembered in BENCH_PIDS; a load generator or client run with
# bench_run_child is BENCH_CHILD while it runs; bench_cleanup, run from the
# trap on EXIT that bench_traps sets, stops whatever is still running.
# Every wait is bounded.

BENCH_PIDS=""          # server process groups still running
BENCH_CHILD=""         # the load generator or client bench_run_child waits for
BENCH_PID=""           # set by bench_start: the server's pid (= its process group)
BENCH_PORT=""          # set by bench_start: the TCP port it listens on
BENCH_REASON=""        # set when a helper fails: one line saying why
BENCH_START_TIMEOUT=${BENCH_START_TIMEOUT:-10}   # seconds for a server to print its port
BENCH_STOP_TIMEOUT=${BENCH_STOP_TIMEOUT:-10}     # seconds between SIGTERM and SIGKILL
SERVER_PIN=()          # prefixes: taskset -c CPU, when there are two CPUs to spare
CLIENT_PIN=()
BENCH_PIN_NOTE=""

# bench_paths NAME: the paths of bench/NAME.sh, from ROOT (the repository,
# set by the script) and the environment: BUILD (sockkit's build directory,
# absolute; default build), SK ($BUILD/sk), LOGS ($BUILD/bench-logs/NAME),
# RESULTS (BENCH_RESULTS, default bench/results) and ANCHORS
# ($BUILD/bench-anchors, where bench_build_anchors puts them).
bench_paths() {
    BUILD=${BUILD:-build}
    case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
    SK=$BUILD/sk
    LOGS=$BUILD/bench-logs/$1
    RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}
    ANCHORS=$BUILD/bench-anchors
}

# say TEXT...: a line on stderr (progress and notes; stdout is the table).
say() { printf '%s\n' "$*" >&2; }

# bench_traps [CLEANUP]: run CLEANUP (default bench_cleanup; a script's own
# should call bench_cleanup) on exit, and exit on INT (130), TERM and HUP
# (143), which runs it too.
bench_traps() {
    # shellcheck disable=SC2064  # expanded now, on purpose
    trap "${1:-bench_cleanup}" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
}

# bench_build_sk SCRIPT: build sockkit into $BUILD (make build) unless
# BENCH_NO_BUILD=1. When the build fails, go on with the $SK already there
# (a warning) or exit 1; SCRIPT names the script in these messages.
bench_build_sk() {
    [ "${BENCH_NO_BUILD:-0}" != 1 ] || return 0
    say "== building sockkit into $BUILD"
    if ! make -C "$ROOT" build BUILD="$BUILD" >&2; then
        [ -x "$SK" ] || { say "$1: build failed and no $SK"; exit 1; }
        say "$1: WARNING: build failed; using the existing $SK"
    fi
}

# bench_build_anchors SCRIPT NEEDED: build the C anchors and floors into
# ANCHORS (bench/anchors/build.sh), unless BENCH_NO_BUILD=1 and
# ANCHORS/NEEDED is there already. One that does not build is the script's
# to report (n/a); SCRIPT names it in the message.
bench_build_anchors() {
    [ "${BENCH_NO_BUILD:-0}" = 1 ] && [ -x "$ANCHORS/$2" ] && return 0
    say "== building the anchors into $ANCHORS"
    sh "$ROOT/bench/anchors/build.sh" "$ANCHORS" >&2 ||
        say "$1: some anchors did not build (reported as n/a)"
}

# bench_free_port: a TCP port on 127.0.0.1 that nobody listens on now (the
# kernel's pick), for a server that cannot listen on port 0 and say which
# port it got.
bench_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_run_child CMD...: run CMD (a load generator or client, bounded by
# timeout(1)) in the background, so that a signal to the script is handled
# at once, and wait for it; returns its exit status. Redirections given to
# bench_run_child apply to CMD, stdin included (it is not /dev/null, as for
# a plain `CMD &`: give </dev/null when CMD should not read it).
# bench_cleanup stops it (timeout(1) passes the signal on) if the script
# exits meanwhile.
bench_run_child() {
    local rc
    "$@" <&0 &
    BENCH_CHILD=$!
    wait "$BENCH_CHILD"
    rc=$?
    BENCH_CHILD=""
    return "$rc"
}

# bench_pin_cpus [N]: pin servers to the first N allowed CPUs (default 1)
# and load generators to the next one, when this process may use at least
# N+1. Sets SERVER_PIN, CLIENT_PIN and BENCH_PIN_NOTE (what it did, in words).
bench_pin_cpus() {
    local n=${1:-1} cpus server
    cpus=$(python3 -c 'import os; print(" ".join(map(str, sorted(os.sched_getaffinity(0)))))')
    # shellcheck disable=SC2086  # word splitting wanted
    set -- $cpus
    if [ $# -gt "$n" ] && command -v taskset >/dev/null 2>&1; then
        server=$(echo "$@" | cut -d' ' -f1-"$n" | tr ' ' ',')
        shift "$n"
        SERVER_PIN=(taskset -c "$server")
        CLIENT_PIN=(taskset -c "$1")
        BENCH_PIN_NOTE="server on CPU $server, load generator on CPU $1"
    else
        SERVER_PIN=()
        CLIENT_PIN=()
        BENCH_PIN_NOTE="not pinned ($# CPU(s) available, taskset $(command -v taskset >/dev/null 2>&1 && echo found || echo missing))"
    fi
}

# bench_raise_nofile N: raise the soft RLIMIT_NOFILE to at least N (up to
# the hard limit; root may raise the hard limit too). Run it in the shell
# itself, not in $(...): the limit is inherited by what the shell starts.
bench_raise_nofile() {
    local want=$1 hard
    if [ "$(ulimit -Sn)" = unlimited ] || [ "$(ulimit -Sn)" -ge "$want" ]; then
        return 0
    fi
    ulimit -Hn "$want" 2>/dev/null || true
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$want" ]; then
        ulimit -Sn "$want"
    else
        ulimit -Sn "$hard"
    fi
}

# bench_start LOGPREFIX CMD...: start a server in its own session, pinned
# with SERVER_PIN, stdout to LOGPREFIX.out and stderr to LOGPREFIX.err, and
# wait (bounded) for its "... listening on tcp:HOST:PORT" line. Sets
# BENCH_PID and BENCH_PORT; returns 1 with BENCH_REASON if it does not start.
bench_start() {
    local prefix=$1 pid tries line
    shift
    BENCH_PID="" BENCH_PORT="" BENCH_REASON=""
    : >"$prefix.out"
    setsid "${SERVER_PIN[@]}" "$@" >"$prefix.out" 2>"$prefix.err" </dev/null &
    pid=$!
    BENCH_PIDS="$BENCH_PIDS $pid"
    tries=$((BENCH_START_TIMEOUT * 20))
    while [ "$tries" -gt 0 ]; do
        line=$(grep -m1 -E 'listening on tcp:' "$prefix.out" 2>/dev/null || true)
        if [ -n "$line" ]; then
            BENCH_PID=$pid
            BENCH_PORT=${line##*:}
            return 0
        fi
        if ! bench_alive "$pid"; then
            wait "$pid" 2>/dev/null
            BENCH_REASON=$(bench_last_line "$prefix.err" "exited before listening")
            bench_forget "$pid"
            return 1
        fi
        sleep 0.05
        tries=$((tries - 1))
    done
    BENCH_REASON="no 'listening on' line within ${BENCH_START_TIMEOUT} s"
    bench_stop "$pid"
    return 1
}

# bench_last_line FILE DEFAULT: the last non-empty line of FILE, or DEFAULT.
bench_last_line() {
    local l
    l=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-160)
    echo "${l:-$2}"
}

# bench_alive PID: is PID running (not gone, not a zombie)?
bench_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

bench_forget() {
    local p rest=""
    for p in $BENCH_PIDS; do
        [ "$p" = "$1" ] || rest="$rest $p"
    done
    BENCH_PIDS=$rest
}

# bench_stop PID: SIGTERM to the server's process group, SIGKILL to the
# group after BENCH_STOP_TIMEOUT seconds (or at once when the leader has
# exited: children that outlive it go too), then reap it.
bench_stop() {
    local pid=$1 tries
    bench_signal TERM "$pid"
    tries=$((BENCH_STOP_TIMEOUT * 20))
    while [ "$tries" -gt 0 ] && bench_alive "$pid"; do
        sleep 0.05
        tries=$((tries - 1))
    done
    bench_signal KILL "$pid"
    wait "$pid" 2>/dev/null
    bench_forget "$pid"
    return 0
}

# bench_signal SIG PID: signal PID's process group, or PID alone if it
# leads none (setsid had not run yet).
bench_signal() {
    kill -"$1" -- "-$2" 2>/dev/null || kill -"$1" "$2" 2>/dev/null
}

# bench_cleanup: stop the child bench_run_child waits for, and every server
# still running (for trap ... EXIT).
bench_cleanup() {
    local p
    if [ -n "$BENCH_CHILD" ]; then
        kill "$BENCH_CHILD" 2>/dev/null
        wait "$BENCH_CHILD" 2>/dev/null
        BENCH_CHILD=""
    fi
    for p in $BENCH_PIDS; do
        bench_stop "$p"
    done
}

# bench_echo_check PORT: one seed-style client round trip ("hello world")
# to 127.0.0.1:PORT, bounded by 5 s. Returns 0 when the echo comes back.
bench_echo_check() {
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.send(b"hello world")
data = b""
while len(data) < 11:
    chunk = s.recv(1024)
    if not chunk:
        break
    data += chunk
s.close()
sys.exit(0 if data == b"hello world" else 1)
EOF
}

# bench_group_cpu_ticks PGID: CPU time (user + system, in clock ticks) used
# so far by every process of a process group, counting children it has
# already reaped (the leader's cutime and cstime).
bench_group_cpu_ticks() {
    python3 - "$1" <<'PY'
import os, sys
pgid, total = int(sys.argv[1]), 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open("/proc/%s/stat" % pid) as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        continue
    if int(fields[2]) != pgid:
        continue
    total += int(fields[11]) + int(fields[12])
    if int(pid) == pgid:
        total += int(fields[13]) + int(fields[14])
print(total)
PY
}
