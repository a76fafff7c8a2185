#!/usr/bin/env bash
# bench/chat.sh: chat fan-out — `sk serve chat` (epoll, and reactors with
# 2 workers) against `ncat --chat`, in one run, on loopback.
#
# Part 1, the target: N clients in one room (N = 100, 1,000, 10,000), 50
# messages/s said in total (open loop: latency counts from each message's
# intended send time), every message delivered to every client:
#     sk bench --workload chat 127.0.0.1:PORT --conns N --rate 50 --json
# deliveries/s and p99 delivery latency, for each sockkit model, and for
# the floor (bench/anchors/chat_floor.c): the least a server can do per
# delivery, so the machine's own limit shows beside the target.
# Part 2, the ratio: ncat --chat select()s over its clients and aborts
# past FD_SETSIZE; bench/ncat_chat_probe.py finds how many it serves (N*).
# At N*, closed loop (--pipeline W messages in flight, the next said once
# one has reached every client; W from CHAT_WINDOWS, the best kept): the
# most deliveries/s each server sustains, and the ratio sockkit / ncat.
# ncat does not echo a message to its sender (--no-echo: N*-1 deliveries
# per message). Also at N*, ncat at 50 messages/s for the latency.
#
# Servers run on CPU 0 and the load generator on CPU 1 (taskset) when two
# are available; sk serve runs with --chat-rate 0 (the load generator's
# clients say more than a person would) and the server's CPU time is read
# from /proc, the load generator's with time(1) when installed (it must not
# be the bottleneck). RLIMIT_NOFILE is raised as far as the hard limit allows
# (10,000 clients + the server, in separate processes, need ~10,100 each).
#
# Output: a table on stdout, bench/results/chat.md and chat.dat.
#
# usage: bench/chat.sh            (from anywhere; builds what is missing)
# environment:
#   CHAT_CONNS      client counts of part 1 (default "100 1000 10000")
#   CHAT_RATE       messages/s of part 1 (default 50)
#   CHAT_WINDOWS    closed-loop windows of part 2 (default "32 128 256")
#   CHAT_SERVERS    sockkit models (default "epoll reactors")
#   CHAT_WIDE       part-1 client counts at which reactors also runs on both
#                   CPUs ("reactors-2cpu": not pinned, the load generator
#                   still on CPU 1; default "10000", "" for none)
#   CHAT_NCAT_MAX   most clients the ncat probe tries (default 1100, past FD_SETSIZE)
#   CHAT_FLOOR      1 (default): part 1 also runs the fan-out floor
#                   (bench/anchors/chat_floor.c: raw epoll, one room, one
#                   write per client per turn), the least any server does;
#                   0: not
#   BENCH_DURATION  measured seconds per run (default 5)
#   BENCH_RESULTS   output directory (default bench/results)
#   BUILD           sockkit build directory (default build)
#   BENCH_NO_BUILD  1: use the binaries already built
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/bench/lib.sh"

bench_paths chat
DURATION=${BENCH_DURATION:-5}
WARMUP=1
CONNS_LIST=${CHAT_CONNS:-"100 1000 10000"}
RATE=${CHAT_RATE:-50}
WINDOWS=${CHAT_WINDOWS:-"32 128 256"}
MODELS=${CHAT_SERVERS:-"epoll reactors"}
WIDE=${CHAT_WIDE-10000}
NCAT_PROBE_MAX=${CHAT_NCAT_MAX:-1100} # past FD_SETSIZE (1024)
FLOOR=${CHAT_FLOOR-1}

bench_traps bench_cleanup

build_all() {
    bench_build_sk chat.sh
    [ -x "$SK" ] || { say "chat.sh: $SK not found"; exit 1; }
    bench_build_anchors chat.sh chat_floor
}

# start_server NAME LOGPREFIX: start a server (sk model or ncat); sets
# BENCH_PID and BENCH_PORT, or returns 1 with BENCH_REASON.
start_server() {
    local name=$1 log=$2 port tries
    case $name in
    epoll | thread | uring)
        bench_start "$log" "$SK" serve chat=tcp:127.0.0.1:0 --model "$name" -q --grace 1 --chat-rate 0 ;;
    reactors)
        bench_start "$log" "$SK" serve chat=tcp:127.0.0.1:0 --model reactors --workers 2 -q --grace 1 \
            --chat-rate 0 ;;
    reactors-2cpu)
        local pin=("${SERVER_PIN[@]}") rc
        SERVER_PIN=()
        bench_start "$log" "$SK" serve chat=tcp:127.0.0.1:0 --model reactors --workers 2 -q --grace 1 \
            --chat-rate 0
        rc=$?
        SERVER_PIN=("${pin[@]}")
        return $rc ;;
    floor)
        [ -x "$ANCHORS/chat_floor" ] || { BENCH_REASON="chat_floor not built (bench/anchors/build.sh)"; return 1; }
        bench_start "$log" "$ANCHORS/chat_floor" 0 ;;
    ncat)
        command -v ncat >/dev/null 2>&1 || { BENCH_REASON="ncat not installed"; return 1; }
        port=$(bench_free_port) # ncat cannot listen on port 0 and tell
        setsid "${SERVER_PIN[@]}" ncat -l --chat --max-conns 100000 127.0.0.1 "$port" \
            >"$log.out" 2>"$log.err" </dev/null &
        BENCH_PID=$!
        BENCH_PIDS="$BENCH_PIDS $BENCH_PID"
        # wait for the listener without connecting (ncat --chat quits when a
        # client is gone before it has looked at it)
        tries=100
        while [ "$tries" -gt 0 ] && [ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; do
            bench_alive "$BENCH_PID" || { BENCH_REASON=$(bench_last_line "$log.err" "ncat exited"); return 1; }
            sleep 0.05
            tries=$((tries - 1))
        done
        [ "$tries" -gt 0 ] || { BENCH_REASON="ncat did not listen"; bench_stop "$BENCH_PID"; return 1; }
        BENCH_PORT=$port ;;
    *)
        BENCH_REASON="unknown server"
        return 1 ;;
    esac
}

# record PART SERVER CONNS LOAD STATUS DELIVERIES_PER_S P99_US CPU_S CLIENT_CPU_S NOTE
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TSV"
    case $5 in
    ok) say "   $2 @ $3 ($4): $6 deliveries/s, p99 $7 us, CPU s: server $8, client $9${10:+ (${10})}" ;;
    *) say "   $2 @ $3 ($4): $5${10:+ (${10})}" ;;
    esac
}

# TIMED: time(1) writing the load generator's user+system CPU seconds to
# the file after -o, when installed.
TIMED=()
[ -x /usr/bin/time ] && TIMED=(/usr/bin/time -f '%U %S' -o)

# run_once PART SERVER CONNS LOADNAME ARGS...: a fresh server, one load run.
run_once() {
    local part=$1 name=$2 conns=$3 load=$4 log rc alive=1 cpu0 cpu1 parsed cpu
    shift 4
    log=$LOGS/$part-$name-$conns-${load//[^a-zA-Z0-9]/_}
    if ! start_server "$name" "$log"; then
        record "$part" "$name" "$conns" "$load" n/a - - - - "$BENCH_REASON"
        return
    fi
    cpu0=$(bench_group_cpu_ticks "$BENCH_PID")
    rm -f "$log.time"
    bench_run_child timeout -k 5 $((${DURATION%.*} + WARMUP + 30 + conns / 100)) \
        ${TIMED[@]+"${TIMED[@]}" "$log.time"} "${CLIENT_PIN[@]}" "$SK" bench --workload chat "127.0.0.1:$BENCH_PORT" --conns "$conns" --duration "$DURATION" \
        --warmup "$WARMUP" --json "$@" </dev/null >"$log.json" 2>"$log.bench.err"
    rc=$?
    bench_alive "$BENCH_PID" || alive=0
    cpu1=$(bench_group_cpu_ticks "$BENCH_PID")
    bench_stop "$BENCH_PID"
    cpu=$(python3 -c 'import os, sys; print("%.2f" % (int(sys.argv[1]) / os.sysconf("SC_CLK_TCK")))' \
        "$((cpu1 - cpu0))")
    local ccpu
    ccpu=$(awk 'NF == 2 && $1 ~ /^[0-9.]+$/ { printf "%.2f", $1 + $2; found = 1 } END { if (!found) print "-" }' \
        "$log.time" 2>/dev/null || echo -)
    if ! parsed=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("%.0f %.0f %d %d %.1f" % (r["deliveries_per_s"], r["latency_us"]["p99"], r["missing"],
                                 r["errors"], r["settle_s"]))
' "$log.json" 2>/dev/null); then
        local why
        why=$(grep -v '^[[:space:]]*$' "$log.bench.err" 2>/dev/null | tail -n 2 | sed 's/^sk: bench: //' |
            paste -sd ';' - | cut -c1-200)
        [ "$alive" = 0 ] && why="server exited: $(bench_last_line "$log.err" "no message"); $why"
        record "$part" "$name" "$conns" "$load" failed - - "$cpu" "$ccpu" "exit $rc: ${why:-no report}"
        return 1
    fi
    local dps p99 missing errors settle note
    read -r dps p99 missing errors settle <<<"$parsed"
    note="settled in $settle s"
    [ "$missing" = 0 ] || note="$note; $missing deliveries missing"
    [ "$errors" = 0 ] || note="$note; $errors clients lost"
    record "$part" "$name" "$conns" "$load" ok "$dps" "$p99" "$cpu" "$ccpu" "$note"
}

# best_closed_loop SERVER CONNS [ARGS...]: closed loop at every window,
# keep the run with the most deliveries/s.
best_closed_loop() {
    local name=$1 conns=$2 w
    shift 2
    for w in $WINDOWS; do
        run_once max "$name" "$conns" "window $w" --pipeline "$w" "$@"
    done
}

# ncat_limit: how many clients ncat --chat serves at once (sets NCAT_N).
ncat_limit() {
    NCAT_N=0
    start_server ncat "$LOGS/ncat-probe" || { say "   ncat: $BENCH_REASON"; return 1; }
    NCAT_N=$(timeout 600 python3 "$ROOT/bench/ncat_chat_probe.py" "$BENCH_PORT" "$NCAT_PROBE_MAX" \
        "$BENCH_PID" 2>"$LOGS/ncat-probe.py.err" || echo 0)
    bench_stop "$BENCH_PID"
    say "   ncat --chat served $NCAT_N clients at once ($(bench_last_line "$LOGS/ncat-probe.err" "no message"))"
    [ "$NCAT_N" -gt 1 ]
}

report() {
    PYTHONPATH="$ROOT/bench" python3 - "$TSV" "$RESULTS" "$META" <<'EOF'
import sys

from results_table import markdown_document, text_table

tsv, results, meta = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [l.rstrip("\n").split("\t") for l in open(tsv) if l.strip()]
head = ["part", "server", "clients", "load", "deliveries/s", "p99 ms", "server CPU s",
        "client CPU s", "notes"]
table = []
for part, server, conns, load, status, dps, p99, cpu, ccpu, note in rows:
    if status == "ok":
        cells = ["{:,.0f}".format(float(dps)), "%.1f" % (float(p99) / 1000), cpu, ccpu]
    else:
        cells = [status, "-", cpu, ccpu]
    table.append([part, server, "{:,}".format(int(conns)), load] + cells + [note])

# part 2: the best closed-loop rate of each server, and the ratios to ncat
best = {}
for part, server, conns, load, status, dps, p99, cpu, ccpu, note in rows:
    if part == "max" and status == "ok" and float(dps) > best.get(server, (0, ""))[0]:
        best[server] = (float(dps), load, conns)
ratios = []
if "ncat" in best:
    for server, (dps, load, conns) in best.items():
        ratios.append("%s: %s deliveries/s (%s), %.1fx ncat --chat" % (
            server, "{:,.0f}".format(dps), load, dps / best["ncat"][0]))

right = {2, 4, 5, 6, 7}
print(text_table(head, table, right))
print()
for r in ratios:
    print("best closed loop, " + r)

with open(results + "/chat.md", "w") as md:
    md.write(markdown_document("Chat fan-out: sk serve chat vs ncat --chat", meta, head, table, right))
    if ratios:
        md.write("\nBest closed-loop rate at ncat's largest room:\n\n")
        for r in ratios:
            md.write("- " + r + "\n")

with open(results + "/chat.dat", "w") as dat:
    dat.write("# chat fan-out, written by bench/chat.sh: one run per line\n")
    dat.write("# part server clients load status deliveries_per_s p99_us server_cpu_s "
              "client_cpu_s\n")
    for part, server, conns, load, status, dps, p99, cpu, ccpu, note in rows:
        dat.write("%s %s %s %s %s %s %s %s %s\n" % (part, server, conns, load.replace(" ", "_"),
                                                    status, dps, p99, cpu, ccpu))
EOF
}

main() {
    build_all
    rm -rf "$LOGS"
    mkdir -p "$RESULTS" "$LOGS" || exit 1
    TSV=$LOGS/results.tsv
    : >"$TSV"
    bench_raise_nofile 20000
    bench_pin_cpus
    say "== $BENCH_PIN_NOTE; RLIMIT_NOFILE $(ulimit -Sn); $DURATION s per run (+ $WARMUP s warmup); logs in $LOGS"
    local c m
    say "== part 1: $RATE messages/s to one room"
    for c in $CONNS_LIST; do
        for m in $MODELS; do
            run_once target "$m" "$c" "$RATE msg/s" --rate "$RATE"
        done
        case " $WIDE " in *" $c "*) run_once target reactors-2cpu "$c" "$RATE msg/s" --rate "$RATE" ;; esac
        [ "$FLOOR" = 1 ] && run_once target floor "$c" "$RATE msg/s" --rate "$RATE"
    done
    say "== part 2: the most deliveries/s at ncat's largest room"
    if ncat_limit; then
        best_closed_loop ncat "$NCAT_N" --no-echo
        run_once target ncat "$NCAT_N" "$RATE msg/s" --rate "$RATE" --no-echo
        for m in $MODELS; do
            best_closed_loop "$m" "$NCAT_N"
        done
    fi
    META="$(date -u '+%Y-%m-%d %H:%M UTC'), Linux $(uname -r), $(nproc) CPU(s): \
$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'); load average \
$(cut -d' ' -f1-3 /proc/loadavg).\\n\
Each run: a fresh server, \`sk bench --workload chat 127.0.0.1:PORT --conns N --duration $DURATION \
--warmup $WARMUP --json\` with --rate R (open loop) or --pipeline W (closed loop; the best W of \
$WINDOWS kept); $BENCH_PIN_NOTE (reactors-2cpu: the server on both CPUs). sk serve chat runs with --chat-rate 0 (reactors: --workers 2); \
floor: bench/anchors/chat_floor.c, the least a chat server can do (raw epoll, one room, every line said in a turn sent to every client with one write each after the turn; no nicknames, stamps or queues); \
ncat --chat does not echo (--no-echo), and serves at most $NCAT_N clients (bench/ncat_chat_probe.py). \
Server CPU s: the server's CPU time over the whole run (connecting included); client CPU s: the \
load generator's (time(1)). Produced by bench/chat.sh."
    report
    say "== results in $RESULTS/chat.{md,dat}"
}

main "$@"
