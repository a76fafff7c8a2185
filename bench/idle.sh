#!/usr/bin/env bash
# bench/idle.sh: what an idle connection costs `sk serve echo --model epoll`.
#
# Opens IDLE_CONNS (default 100,000) concurrent idle TCP connections to the
# server on loopback (bench/idle_clients.py; source addresses 127.0.0.2,
# 127.0.0.3, ... so the ephemeral ports suffice), reads the server's VmRSS
# from /proc/PID/status before and after, and prints the user-space bytes
# per connection (RSS delta / connections) against the target of at most
# 1 KiB per connection. Meanwhile it checks that echo round trips still work,
# on a new connection and on idle ones.
#
# RLIMIT_NOFILE is raised as far as allowed; when a limit (file descriptors,
# ports, time) stops it short of IDLE_CONNS, it measures what it reached and
# says so.
#
# usage: bench/idle.sh
# environment:
#   IDLE_CONNS   connections to open (default 100000)
#   IDLE_MODEL   server model (default epoll)
#   BUILD        sockkit build directory (default build; built if sk is missing)
# exit status: 0 measured and within the target, 1 above the target or an echo
# check failed, 2 could not measure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/bench/lib.sh"

bench_paths idle
N=${IDLE_CONNS:-100000}
ASKED=$N
SHORT="" # why fewer than asked, if so
MODEL=${IDLE_MODEL:-epoll}
TARGET=1024 # bytes per connection
CLIENT_PID="" # set by coproc CLIENT

cleanup() {
    if [ -n "$CLIENT_PID" ]; then
        kill "$CLIENT_PID" 2>/dev/null
        wait "$CLIENT_PID" 2>/dev/null
    fi
    bench_cleanup
}
bench_traps cleanup

die() {
    echo "idle.sh: $*" >&2
    exit 2
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

fd_count() {
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

if [ ! -x "$SK" ]; then
    make -C "$ROOT" build BUILD="$BUILD" >&2 || die "cannot build $SK"
fi
mkdir -p "$LOGS" || die "cannot create $LOGS"

# Each side needs one descriptor per connection, plus a margin.
bench_raise_nofile $((N + 64))
limit=$(ulimit -Sn)
if [ "$limit" != unlimited ] && [ $((limit - 64)) -lt "$N" ]; then
    echo "idle.sh: RLIMIT_NOFILE is $limit: scaling down from $N to $((limit - 64)) connections" >&2
    N=$((limit - 64))
    SHORT="the RLIMIT_NOFILE hard limit, $limit"
fi
[ "$N" -gt 0 ] || die "RLIMIT_NOFILE too low ($limit)"

bench_start "$LOGS/idle-server" "$SK" serve echo=tcp:127.0.0.1:0 --model "$MODEL" -q --grace 1 ||
    die "sk serve --model $MODEL did not start: $BENCH_REASON"
SERVER=$BENCH_PID
PORT=$BENCH_PORT
# One round trip first, so buffers a server allocates once are in the baseline.
bench_echo_check "$PORT" || die "no echo from the server before the test"
sleep 0.2
rss_before=$(rss_kib "$SERVER")
fds_before=$(fd_count "$SERVER")
echo "server: sk serve --model $MODEL, pid $SERVER, 127.0.0.1:$PORT, VmRSS $rss_before KiB, $fds_before fds" >&2
echo "opening $N idle connections (RLIMIT_NOFILE $(ulimit -Sn)) ..." >&2

coproc CLIENT { exec python3 "$ROOT/bench/idle_clients.py" "$PORT" "$N"; }
read -r -t 600 line <&"${CLIENT[0]}" || die "the client did not report within 600 s"
case $line in connected*) ;; *) die "unexpected client output: $line" ;; esac
read -r _ reached rest <<<"$line"
if [ -n "$rest" ]; then
    echo "idle.sh: the client stopped early: ${rest#stopped: }" >&2
    SHORT="${SHORT:+$SHORT; }client: ${rest#stopped: }"
fi
[ "$reached" -gt 0 ] || die "no connection opened"

# Wait (bounded) until the server has accepted them all.
tries=600
while [ $(($(fd_count "$SERVER") - fds_before)) -lt "$reached" ] && [ "$tries" -gt 0 ]; do
    bench_alive "$SERVER" || die "the server exited: $(bench_last_line "$LOGS/idle-server.err" "no message")"
    sleep 0.1
    tries=$((tries - 1))
done
accepted=$(($(fd_count "$SERVER") - fds_before))
if [ "$accepted" -lt "$reached" ]; then
    echo "idle.sh: the server holds $accepted of $reached connections after 60 s" >&2
    SHORT="${SHORT:+$SHORT; }server accepted $accepted of $reached"
fi
conns=$((accepted < reached ? accepted : reached))
[ "$conns" -gt 0 ] || die "the server accepted no connection"
sleep 1
rss_after=$(rss_kib "$SERVER")

# Round trips while they are all held: a new connection, then idle ones.
echo_new=failed
bench_echo_check "$PORT" && echo_new=ok
echo check >&"${CLIENT[1]}"
read -r -t 30 echo_idle <&"${CLIENT[0]}" || echo_idle="check failed: no answer"
echo quit >&"${CLIENT[1]}"

delta=$((rss_after - rss_before))
per_conn=$((delta * 1024 / conns))
verdict="within the target"
[ "$per_conn" -le "$TARGET" ] || verdict="ABOVE the target"

echo "idle connections:  $conns (asked $ASKED${SHORT:+; limited by $SHORT})"
echo "server VmRSS:      $rss_before KiB before, $rss_after KiB after (+$delta KiB)"
echo "per connection:    $per_conn bytes of user-space memory (target <= $TARGET): $verdict"
echo "echo while held:   new connection $echo_new; idle connections ${echo_idle#check }"

[ "$per_conn" -le "$TARGET" ] && [ "$echo_new" = ok ] && [ "$echo_idle" = "check ok" ]
