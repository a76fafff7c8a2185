#!/usr/bin/env bash
# bench/models.sh: sockkit's concurrency models against anchor servers, in
# one run, on loopback.
#
# For each server — the sockkit models thread, fork, prefork, pool, select,
# poll, epoll, reactors (--workers 2) and uring, and the anchors libuv,
# libevent, raw-epoll (bench/anchors/epoll_echo.c, the floor), asyncio and
# socketserver — a fresh server runs the echo workload (64-byte ping-pong)
# at 50 and then 1,000 connections, driven by
#     sk bench 127.0.0.1:PORT --conns N --size 64 --duration D --json
# The server is pinned to one CPU and the load generator to another (taskset)
# when two are available, so the ratios compare like with like. With
# BENCH_REPEAT > 1 the measurements run in rounds, every server once per
# round, and the median of each point is kept.
#
# Output: a table on stdout (round trips/s, p99 latency, ratio to libuv and
# to raw-epoll measured in the same run; and the server's CPU time per round
# trip with its ratio to the anchors' — the figure that still compares
# servers when the load generator, on its one CPU, is the bottleneck; and
# the load generator's own CPU share, which says when it is), and in
# bench/results/: models.md
# (the table as markdown), models.dat (the data), models.svg and models.png
# (grouped bars, with gnuplot). A server that cannot start is "n/a" (with the
# reason); one that fails under load is "failed"; the run goes on.
#
# usage: bench/models.sh            (from anywhere; builds what is missing)
# environment:
#   BENCH_DURATION  seconds per measurement (default 5)
#   BENCH_CONNS     connection counts (default "50 1000")
#   BENCH_REPEAT    rounds (each runs every server once), the median of
#                   each point is kept (default 1)
#   BENCH_SERVERS   servers to run (default: all, in the order above)
#   BENCH_RESULTS   output directory (default bench/results)
#   BUILD           sockkit build directory (default build)
#   BENCH_NO_BUILD  1: use the binaries already built
#   BENCH_LOADGEN   load generator command (default "$BUILD/sk bench")
#   BENCH_CHART_ONLY 1: only redraw the chart from BENCH_RESULTS/models.dat
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/bench/lib.sh"

bench_paths models
DURATION=${BENCH_DURATION:-5}
REPEAT=${BENCH_REPEAT:-1}
CONNS_LIST=${BENCH_CONNS:-"50 1000"}
SERVERS=${BENCH_SERVERS:-"thread fork prefork pool select poll epoll reactors uring libuv libevent raw-epoll asyncio socketserver"}
SIZE=64
SELECT_LIMIT=1024 # FD_SETSIZE
# TIMED: time(1) writing the load generator's user and system CPU seconds
# and its wall time to a file (Debian's time package; without it, no figure).
TIMED=()
[ -x /usr/bin/time ] && TIMED=(/usr/bin/time -f '%U %S %e' -o)

bench_traps bench_cleanup

build_all() {
    bench_build_sk models.sh
    bench_build_anchors models.sh epoll_echo
    [ -x "$SK" ] || { say "models.sh: $SK not found"; exit 1; }
}

# The load generator, as an array in LOADGEN.
pick_loadgen() {
    if [ -n "${BENCH_LOADGEN:-}" ]; then
        read -r -a LOADGEN <<<"$BENCH_LOADGEN"
        return
    fi
    LOADGEN=("$SK" bench)
    if ! "$SK" bench --help >/dev/null 2>&1; then
        say "models.sh: '$SK bench' is not available (is it built?)"
        exit 1
    fi
}

# server_cmd NAME: the command line for a server, in CMD; returns 1 with
# BENCH_REASON when it cannot run here.
server_cmd() {
    case $1 in
    thread | fork | prefork | pool | select | poll | epoll | uring)
        CMD=("$SK" serve echo=tcp:127.0.0.1:0 --model "$1" -q --grace 1) ;;
    reactors)
        CMD=("$SK" serve echo=tcp:127.0.0.1:0 --model reactors --workers 2 -q --grace 1) ;;
    libuv | libevent | raw-epoll)
        local bin
        case $1 in libuv) bin=uv_echo ;; libevent) bin=event_echo ;; *) bin=epoll_echo ;; esac
        CMD=("$ANCHORS/$bin" 0)
        [ -x "$ANCHORS/$bin" ] || { BENCH_REASON="$bin not built (bench/anchors/build.sh)"; return 1; } ;;
    asyncio | socketserver)
        CMD=(python3 "$ROOT/bench/anchors/${1}_echo.py" 0) ;;
    *)
        BENCH_REASON="unknown server"
        return 1 ;;
    esac
}

# record SERVER CONNS STATUS RATE P99 NOTE CPU_US GEN_CPU
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7:--}" "${8:--}" >>"$TSV"
    case $3 in
    ok) say "   $1 @ $2: $4 round trips/s, p99 $5 us, server CPU $7 us/rt, load generator CPU ${8}%${6:+ ($6)}" ;;
    *) say "   $1 @ $2: $3${6:+ ($6)}" ;;
    esac
}

# measure SERVER CONNS ROUND: one measurement (a fresh server), appended to
# RUNS; a point that could not run or failed in an earlier round is not
# tried again.
measure() {
    local name=$1 conns=$2 round=$3
    if grep -q "^$name	$conns	[^o]" "$RUNS" 2>/dev/null; then
        return
    fi
    if [ "$name" = select ] && [ "$conns" -gt $((SELECT_LIMIT - 64)) ]; then
        printf '%s\t%s\tn/a\t-\t-\t-\t-\tFD_SETSIZE\n' "$name" "$conns" >>"$RUNS"
        return
    fi
    if ! server_cmd "$name"; then
        printf '%s\t%s\tn/a\t-\t-\t-\t-\t%s\n' "$name" "$conns" "$BENCH_REASON" >>"$RUNS"
        return
    fi
    measure_once "$name" "$conns" "$LOGS/$name-$conns-$round"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$STATUS" "$RATE" "$P99" "$CPU_US" \
        "$GEN_CPU" "$NOTE" >>"$RUNS"
    case $STATUS in
    ok) say "   $name @ $conns, round $round: $RATE round trips/s, p99 $P99 us, server CPU $CPU_US us/rt, load generator CPU $GEN_CPU%" ;;
    *) say "   $name @ $conns, round $round: $STATUS${NOTE:+ ($NOTE)}" ;;
    esac
}

# pick SERVER CONNS: record the run with the median rate of SERVER at CONNS
# (over the rounds), or why there is none.
pick() {
    local name=$1 conns=$2 runs n line
    runs=$(awk -F'\t' -v s="$name" -v c="$conns" '$1 == s && $2 == c' "$RUNS")
    [ -n "$runs" ] || return
    line=$(printf '%s\n' "$runs" | awk -F'\t' '$3 != "ok"' | tail -n 1)
    if [ -n "$line" ]; then
        IFS=$'\t' read -r _ _ STATUS _ _ _ _ NOTE <<<"$line"
        record "$name" "$conns" "$STATUS" - - "$NOTE"
        return
    fi
    n=$(printf '%s\n' "$runs" | wc -l)
    line=$(printf '%s\n' "$runs" | sort -t$'\t' -g -k4,4 | sed -n "$(((n + 1) / 2))p")
    IFS=$'\t' read -r _ _ _ RATE P99 CPU_US GEN_CPU NOTE <<<"$line"
    [ "$n" -gt 1 ] && NOTE="median of $n${NOTE:+; $NOTE}"
    record "$name" "$conns" ok "$RATE" "$P99" "$NOTE" "$CPU_US" "$GEN_CPU"
}

# loadgen_error FILE: the load generator's last two messages, on one line.
loadgen_error() {
    local msg
    msg=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 2 | sed 's/^sk: bench: //' | paste -sd ';' - |
        sed 's/;/; /g' | cut -c1-200)
    echo "${msg:-no report}"
}

# measure_once SERVER CONNS LOGPREFIX: start CMD, check one echo, load it,
# stop it. Sets STATUS (ok, n/a, failed), RATE, P99, CPU_US (the server's
# CPU time per round trip, µs, over the warmup and the measured run),
# GEN_CPU (the load generator's CPU time over its wall time, %: near 100,
# the generator, not the server, sets the rate) and NOTE.
measure_once() {
    local name=$1 conns=$2 log=$3 parsed errors mism rts rc alive=1 cpu0 cpu1
    STATUS=failed RATE=- P99=- CPU_US=- GEN_CPU=- NOTE=""
    if ! bench_start "$log" "${CMD[@]}"; then
        STATUS=n/a NOTE=$BENCH_REASON
        return
    fi
    if ! bench_echo_check "$BENCH_PORT"; then
        bench_stop "$BENCH_PID"
        NOTE="no echo before the load"
        return
    fi
    cpu0=$(bench_group_cpu_ticks "$BENCH_PID")
    bench_run_child ${TIMED[@]+"${TIMED[@]}" "$log.time"} timeout -k 5 $((${DURATION%.*} * 2 + 60)) \
        "${CLIENT_PIN[@]}" "${LOADGEN[@]}" \
        "127.0.0.1:$BENCH_PORT" --conns "$conns" --size "$SIZE" --duration "$DURATION" --json \
        </dev/null >"$log.json" 2>"$log.bench.err"
    rc=$?
    bench_alive "$BENCH_PID" || alive=0
    cpu1=$(bench_group_cpu_ticks "$BENCH_PID")
    bench_stop "$BENCH_PID"
    if [ "$alive" = 0 ]; then
        NOTE="server exited: $(bench_last_line "$log.err" "no message")"
        return
    fi
    if ! parsed=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["round_trips_per_s"], r["latency_us"]["p99"], r["errors"], r["mismatches"], r["round_trips"])
' "$log.json" 2>/dev/null); then
        NOTE="load generator exit $rc: $(loadgen_error "$log.bench.err")"
        return
    fi
    read -r RATE P99 errors mism rts <<<"$parsed"
    if [ "$mism" != 0 ] || [ "$rts" = 0 ]; then
        NOTE="$rts round trips, $mism mismatches, $errors errors"
        RATE=- P99=-
        return
    fi
    STATUS=ok
    # The load ran for the warmup (1 s, sk bench's default) plus DURATION.
    CPU_US=$(python3 -c 'import os, sys; t, r, d = map(float, sys.argv[1:]); print("%.2f" % (t / os.sysconf("SC_CLK_TCK") * 1e6 / (r * (d + 1))))' \
        "$((cpu1 - cpu0))" "$RATE" "$DURATION")
    [ "$errors" = 0 ] || NOTE="$errors connection errors"
    [ -s "$log.time" ] && GEN_CPU=$(awk '{ if ($3 > 0) printf "%.0f", 100 * ($1 + $2) / $3; else print "-" }' "$log.time")
}

# report: the table on stdout, models.md and models.dat, then the chart.
report() {
    PYTHONPATH="$ROOT/bench" python3 - "$TSV" "$RESULTS" "$CONNS_LIST" "$META" <<'EOF'
import sys

from results_table import markdown_document, text_table

tsv, results, conns_list, meta = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
rows = [line.rstrip("\n").split("\t") for line in open(tsv) if line.strip()]
servers = list(dict.fromkeys(r[0] for r in rows))
res = {(r[0], r[1]): r for r in rows}


def rate(server, conns):
    r = res.get((server, conns))
    return float(r[3]) if r and r[2] == "ok" else None


def ratio(server, conns, anchor):
    a, b = rate(server, conns), rate(anchor, conns)
    return "%.2f" % (a / b) if a is not None and b else "n/a"


def cpu(server, conns):
    r = res.get((server, conns))
    try:
        return float(r[6]) if r and r[2] == "ok" else None
    except (IndexError, ValueError):
        return None


def efficiency(server, conns, anchor):
    # CPU per round trip of the anchor over the server's: > 1 is less work.
    a, b = cpu(server, conns), cpu(anchor, conns)
    return "%.2f" % (b / a) if a and b else "n/a"


def gen_cpu(server, conns):
    r = res.get((server, conns))
    return r[7] if r and len(r) > 7 and r[2] == "ok" and r[7] != "-" else "n/a"


head = ["server", "conns", "round trips/s", "p99 µs", "ratio to libuv", "ratio to raw-epoll",
        "CPU µs/rt", "CPU ratio to libuv", "CPU ratio to raw-epoll", "load generator CPU %", "notes"]
table = []
for conns in conns_list:
    for server in servers:
        r = res.get((server, conns))
        if not r:
            continue
        status, rt, p99, note = r[2], r[3], r[4], r[5]
        if status == "ok":
            c = cpu(server, conns)
            cells = ["{:,.0f}".format(float(rt)), "{:,.0f}".format(float(p99)),
                     ratio(server, conns, "libuv"), ratio(server, conns, "raw-epoll"),
                     "%.2f" % c if c else "n/a", efficiency(server, conns, "libuv"),
                     efficiency(server, conns, "raw-epoll"), gen_cpu(server, conns)]
        else:
            cells = [status, "-", "-", "-", "-", "-", "-", "-"]
        table.append([server, "{:,}".format(int(conns))] + cells + [note])

right = {1, 2, 3, 4, 5, 6, 7, 8, 9}
print(text_table(head, table, right))

with open(results + "/models.md", "w") as md:
    md.write(markdown_document("sockkit models vs anchors: echo, 64-byte ping-pong", meta, head, table, right))

with open(results + "/models.dat", "w") as dat:
    dat.write("# echo, 64-byte ping-pong: round trips/s and p99 latency (µs) per server;\n")
    dat.write("# NaN: not measured (status n/a: could not run; failed: broke under load).\n")
    dat.write("# Written by bench/models.sh.\n")
    dat.write("# server " + " ".join("rt_per_s@%s" % c for c in conns_list) + " "
              + " ".join("p99_us@%s" % c for c in conns_list) + " "
              + " ".join("status@%s" % c for c in conns_list) + "\n")
    for server in servers:
        rts = [res.get((server, c)) for c in conns_list]
        vals = ["%.0f" % float(r[3]) if r and r[2] == "ok" else "NaN" for r in rts]
        p99s = ["%.1f" % float(r[4]) if r and r[2] == "ok" else "NaN" for r in rts]
        status = [r[2] if r else "n/a" for r in rts]
        dat.write("%-14s %s %s %s\n" % (server, " ".join(vals), " ".join(p99s), " ".join(status)))
EOF
}

chart() {
    if ! command -v gnuplot >/dev/null 2>&1; then
        say "models.sh: gnuplot not found: no chart (apt-get install gnuplot-nox)"
        return
    fi
    local n i x plots="" conns
    read -r -a conns <<<"$CONNS_LIST"
    n=${#conns[@]}
    for ((i = 0; i < n; i++)); do
        plots+="${plots:+, }'$RESULTS/models.dat' using (\$$((i + 2))/1000):xtic(1) title '${conns[i]} connections' ls $((i + 1))"
        # labels over the bars: the value in thousands, or the status (n/a, failed)
        x="(\$0 + ($i - ($n - 1) / 2.0) / ($n + 1.0))"
        plots+=", '' using $x:(\$$((i + 2))/1000):(sprintf('%.0f', \$$((i + 2))/1000)) with labels rotate by 90 left offset 0,0.4 font ',9' notitle"
        plots+=", '' using $x:(0):(strcol($((i + 2))) eq 'NaN' ? strcol($((i + 2 + 2 * n))) : '') with labels rotate by 90 left offset 0,0.4 font ',9' tc rgb '#777777' notitle"
    done
    # a dashed line between the sockkit models and the anchors, when they come in that order
    local split
    split=$(awk '!/^#/ { n++; if ($1 ~ /^(libuv|libevent|raw-epoll|asyncio|socketserver)$/) { if (!a) a = n } else if (a) bad = 1 }
                 END { if (a > 1 && !bad) print a - 1.5 }' "$RESULTS/models.dat")
    local common
    common="set title 'sockkit models vs anchors: echo, 64-byte ping-pong — round trips per second (higher is better)' noenhanced
set ylabel 'thousand round trips per second'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set style line 1 lc rgb '#1f77b4'
set style line 2 lc rgb '#ff7f0e'
set style line 3 lc rgb '#2ca02c'
set boxwidth 0.9
set xtics rotate by -35 left noenhanced nomirror
set ytics nomirror
set grid ytics lc rgb '#dddddd'
set key top right
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
${split:+set arrow from $split, graph 0 to $split, graph 1 nohead dt 2 lc rgb '#888888'
set label 'sockkit models' at $split, graph 0.97 right offset -1,0 tc rgb '#555555'
set label 'anchors' at $split, graph 0.97 left offset 1,0 tc rgb '#555555'}
plot $plots"
    gnuplot <<EOF || say "models.sh: gnuplot failed"
set terminal svg size 1200,650 dynamic font 'DejaVu Sans,12' background rgb 'white'
set output '$RESULTS/models.svg'
$common
set terminal pngcairo size 1400,760 font 'DejaVu Sans,12' background rgb 'white'
set output '$RESULTS/models.png'
replot
EOF
}

main() {
    if [ "${BENCH_CHART_ONLY:-0}" = 1 ]; then
        chart
        return
    fi
    build_all
    pick_loadgen
    rm -rf "$LOGS"
    mkdir -p "$RESULTS" "$LOGS" || exit 1
    TSV=$LOGS/results.tsv
    : >"$TSV"
    local max_conns=0 c pin
    for c in $CONNS_LIST; do [ "$c" -gt "$max_conns" ] && max_conns=$c; done
    bench_raise_nofile $((max_conns * 2 + 4096))
    bench_pin_cpus
    pin=$BENCH_PIN_NOTE
    say "== $pin; RLIMIT_NOFILE $(ulimit -Sn); $DURATION s per measurement; logs in $LOGS"
    RUNS=$LOGS/runs.tsv
    : >"$RUNS"
    local server round
    for ((round = 1; round <= REPEAT; round++)); do
        say "== round $round of $REPEAT"
        for server in $SERVERS; do
            for c in $CONNS_LIST; do
                measure "$server" "$c" "$round"
            done
        done
    done
    for c in $CONNS_LIST; do
        for server in $SERVERS; do
            pick "$server" "$c"
        done
    done
    META="$(date -u '+%Y-%m-%d %H:%M UTC'), Linux $(uname -r), $(nproc) CPU(s): \
$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//').\\n\
Each measurement: a fresh server, \`${LOADGEN[*]##*/} 127.0.0.1:PORT --conns N --size $SIZE --duration $DURATION --json\`\
$([ "$REPEAT" -gt 1 ] && echo " (median of $REPEAT rounds; each round runs every server once, so drift in the machine's load hurts them alike)"); \
$pin. reactors runs with --workers 2; select stops at FD_SETSIZE ($SELECT_LIMIT). \
Ratios are to the libuv and raw-epoll anchors measured in the same run. \
CPU µs/rt: the server's CPU time (all its processes) per round trip over the run; a CPU ratio is the anchor's \
CPU per round trip over the server's (> 1: the server does less work per round trip). \
Load generator CPU: its user + system time over its wall time (connecting included); near 100% it is the load generator, \
on its one CPU, that sets the rate, and a faster server cannot show. Produced by bench/models.sh."
    report
    chart
    say "== results in $RESULTS/models.{md,dat,svg,png}"
}

main "$@"
