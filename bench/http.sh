#!/usr/bin/env bash
# bench/http.sh: `sk serve http` against Debian's lighttpd and nginx, in
# one run, on loopback, with wrk.
#
# Workloads (keep-alive GETs of one static file):
#     1 KiB file, wrk -t1 -c50 -dD       1 MiB file, wrk -t1 -c10 -dD
# Part 1, one core each: sk serve http (--model epoll), lighttpd and nginx
# (worker_processes 1), and the floor (bench/anchors/http_floor.c: one read
# and one write of a reply made at start per request; 1 KiB only), which
# shows what the load generator allows on this machine. Part 2, two
# workers: sk serve http --model reactors --workers 2 against nginx
# worker_processes 2.
#
# Each server is started by the script from a generated configuration in a
# temporary directory, on a free high port, in the foreground (never as a
# system service) with its best static-file settings: nginx sendfile on,
# tcp_nopush, tcp_nodelay, open_file_cache, access_log off, keepalive
# without a request limit; lighttpd sendfile backend, no access log,
# keep-alive without a request limit. sk serve http runs with its defaults
# (no access log).
#
# The servers of a part are measured in turn, BENCH_REPEAT rounds (fresh
# servers each round, the median is kept), so that a machine whose load
# drifts hurts them alike. Servers are pinned to CPU(s) and wrk to another
# when there are enough CPUs (part 2 wants three; with fewer it runs
# unpinned, and says so).
#
# Output: a table on stdout (requests/s, p99 latency, ratio to lighttpd
# and to nginx; the server's CPU time per request and its ratio to theirs,
# the figure that still compares servers when a loaded machine starves the
# load generator; wrk's own CPU share, near 100% when wrk sets the rate)
# and bench/results/http.md, http.dat.
#
# usage: bench/http.sh            (from anywhere; builds what is missing)
# environment:
#   BENCH_DURATION  seconds per measurement (default 10)
#   BENCH_REPEAT    rounds, the median is kept (default 3)
#   BENCH_PARTS     "1 2" (default), "1" or "2"
#   BENCH_RESULTS   output directory (default bench/results)
#   BUILD           sockkit build directory (default build)
#   BENCH_NO_BUILD  1: use the binaries already built
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/bench/lib.sh"

bench_paths http
DURATION=${BENCH_DURATION:-10}
REPEAT=${BENCH_REPEAT:-3}
PARTS=${BENCH_PARTS:-"1 2"}
# TIMED: time(1) writing wrk's user and system CPU seconds and its wall
# time to a file (Debian's time package; without it, no figure).
TIMED=()
[ -x /usr/bin/time ] && TIMED=(/usr/bin/time -f '%U %S %e' -o)
WORK=""
WRK_PID=""

cleanup() {
    if [ -n "$WRK_PID" ]; then
        kill "$WRK_PID" 2>/dev/null
        wait "$WRK_PID" 2>/dev/null
    fi
    bench_cleanup
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

build_all() {
    bench_build_sk http.sh
    [ -x "$SK" ] || { say "http.sh: $SK not found"; exit 1; }
    command -v wrk >/dev/null 2>&1 || { say "http.sh: wrk not found (apt-get install wrk)"; exit 1; }
    bench_build_anchors http.sh http_floor
}

# The document root: 1k.bin and 1m.bin (random bytes).
make_docroot() {
    mkdir -p "$WORK/www"
    head -c 1024 /dev/urandom >"$WORK/www/1k.bin"
    head -c 1048576 /dev/urandom >"$WORK/www/1m.bin"
}

# nginx_conf WORKERS PORT DIR: a configuration in DIR/nginx.conf.
nginx_conf() {
    local workers=$1 port=$2 dir=$3
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_errors on;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    types { application/octet-stream bin; text/html html; }
    server {
        listen 127.0.0.1:$port$([ "$workers" -gt 1 ] && echo " reuseport");
        root $WORK/www;
    }
}
EOF
}

# lighttpd_conf PORT DIR: a configuration in DIR/lighttpd.conf.
lighttpd_conf() {
    local port=$1 dir=$2
    mkdir -p "$dir"
    cat >"$dir/lighttpd.conf" <<EOF
server.document-root = "$WORK/www"
server.bind = "127.0.0.1"
server.port = $port
server.pid-file = "$dir/lighttpd.pid"
server.errorlog = "$dir/error.log"
server.network-backend = "sendfile"
server.max-keep-alive-requests = 100000000
server.max-keep-alive-idle = 65
server.max-fds = 8192
server.stat-cache-engine = "simple"
mimetype.assign = (".bin" => "application/octet-stream", ".html" => "text/html")
EOF
}

# start_server NAME LOGPREFIX: start it (pinned with SERVER_PIN), wait until
# it answers; sets BENCH_PID and BENCH_PORT, or returns 1 with BENCH_REASON.
start_server() {
    local name=$1 log=$2 port dir
    case $name in
    sk-epoll)
        bench_start "$log" "$SK" serve http=tcp:127.0.0.1:0 --model epoll -q --grace 1 \
            --http-root "$WORK/www" || return 1 ;;
    sk-reactors2)
        bench_start "$log" "$SK" serve http=tcp:127.0.0.1:0 --model reactors --workers 2 -q \
            --grace 1 --http-root "$WORK/www" || return 1 ;;
    floor)
        [ -x "$ANCHORS/http_floor" ] || { BENCH_REASON="http_floor not built (bench/anchors/build.sh)"; return 1; }
        bench_start "$log" "$ANCHORS/http_floor" "$WORK/www/1k.bin" 0 || return 1 ;;
    lighttpd | nginx | nginx2)
        command -v "${name%2}" >/dev/null 2>&1 ||
            { BENCH_REASON="${name%2} not installed"; return 1; }
        port=$(bench_free_port)
        dir=$WORK/$name-$port
        case $name in
        lighttpd)
            lighttpd_conf "$port" "$dir"
            start_foreground "$log" "$port" lighttpd -D -f "$dir/lighttpd.conf" ;;
        nginx)
            nginx_conf 1 "$port" "$dir"
            start_foreground "$log" "$port" nginx -c "$dir/nginx.conf" -p "$dir/" ;;
        nginx2)
            nginx_conf 2 "$port" "$dir"
            start_foreground "$log" "$port" nginx -c "$dir/nginx.conf" -p "$dir/" ;;
        esac || return 1 ;;
    *)
        BENCH_REASON="unknown server"
        return 1 ;;
    esac
    if ! get_ok "$BENCH_PORT" /1k.bin 1024; then
        BENCH_REASON="no valid answer to GET /1k.bin"
        bench_stop "$BENCH_PID"
        return 1
    fi
}

# start_foreground LOGPREFIX PORT CMD...: a server that prints no port:
# start it in its own session and wait (bounded) until PORT accepts.
start_foreground() {
    local log=$1 port=$2 pid tries
    shift 2
    BENCH_PID="" BENCH_PORT="" BENCH_REASON=""
    setsid "${SERVER_PIN[@]}" "$@" >"$log.out" 2>"$log.err" </dev/null &
    pid=$!
    BENCH_PIDS="$BENCH_PIDS $pid"
    tries=$((BENCH_START_TIMEOUT * 20))
    while [ "$tries" -gt 0 ]; do
        if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' \
            "$port" 2>/dev/null; then
            BENCH_PID=$pid BENCH_PORT=$port
            return 0
        fi
        if ! bench_alive "$pid"; then
            wait "$pid" 2>/dev/null
            BENCH_REASON=$(bench_last_line "$log.err" "exited before listening")
            bench_forget "$pid"
            return 1
        fi
        sleep 0.05
        tries=$((tries - 1))
    done
    BENCH_REASON="port $port not accepting within ${BENCH_START_TIMEOUT} s"
    bench_stop "$pid"
    return 1
}

# get_ok PORT PATH SIZE: one seed-style GET; 0 when the answer is a 200
# with SIZE body bytes.
get_ok() {
    python3 - "$@" <<'EOF' 2>/dev/null
import socket, sys
port, path, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
s.close()
head, _, body = data.partition(b"\r\n\r\n")
sys.exit(0 if head.split(b"\r\n")[0].split()[1] == b"200" and len(body) == size else 1)
EOF
}

# run_wrk PORT PATH CONNS LOGPREFIX: sets RATE, P99 (µs), CPU_US (the
# server's CPU time per request, µs: every process of its group), GEN_CPU
# (wrk's CPU time over its wall time, %: near 100, wrk sets the rate) and
# NOTE, or returns 1 with NOTE.
run_wrk() {
    local port=$1 path=$2 conns=$3 log=$4 rc parsed cpu0 cpu1
    RATE=- P99=- CPU_US=- GEN_CPU=- NOTE=""
    cpu0=$(bench_group_cpu_ticks "$BENCH_PID")
    ${TIMED[@]+"${TIMED[@]}" "$log.time"} timeout -k 5 $((${DURATION%.*} + 60)) "${CLIENT_PIN[@]}" wrk -t1 -c"$conns" -d"$DURATION" \
        --latency "http://127.0.0.1:$port$path" >"$log.wrk" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID"
    rc=$?
    WRK_PID=""
    cpu1=$(bench_group_cpu_ticks "$BENCH_PID")
    if ! parsed=$(python3 - "$log.wrk" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
p99 = float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)] if m else float("nan")
notes = []
m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if m:
    notes.append(m.group(1) + " non-2xx")
m = re.search(r"Socket errors: (.*)", text)
if m:
    notes.append("socket errors: " + m.group(1).strip())
print("%.0f %.0f %s" % (rate, p99, "; ".join(notes)))
EOF
    ); then
        NOTE="wrk exit $rc: $(bench_last_line "$log.wrk" "no output")"
        return 1
    fi
    read -r RATE P99 NOTE <<<"$parsed"
    CPU_US=$(python3 -c 'import os, sys; t, r, d = map(float, sys.argv[1:]); print("%.2f" % (t / os.sysconf("SC_CLK_TCK") * 1e6 / (r * d)) if r > 0 else "-")' \
        "$((cpu1 - cpu0))" "$RATE" "$DURATION")
    [ -s "$log.time" ] && GEN_CPU=$(awk '{ if ($3 > 0) printf "%.0f", 100 * ($1 + $2) / $3; else print "-" }' "$log.time")
}

# record PART SERVER WORKLOAD STATUS RATE P99 CPU_US GEN_CPU NOTE
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TSV"
    case $4 in
    ok) say "   $2 $3: $5 requests/s, p99 $6 us, server CPU $7 us/request, wrk CPU $8%${9:+ ($9)}" ;;
    *) say "   $2 $3: $4${9:+ ($9)}" ;;
    esac
}

# One round of a part: each server in turn, both workloads.
measure_round() {
    local part=$1 round=$2 name w path conns log
    shift 2
    for name in "$@"; do
        log=$LOGS/$name-$round
        if ! start_server "$name" "$log"; then
            for w in 1k 1m; do
                record "$part" "$name" "$w" n/a - - - - "$BENCH_REASON"
            done
            continue
        fi
        for w in 1k 1m; do
            case $w in 1k) path=/1k.bin conns=50 ;; *) path=/1m.bin conns=10 ;; esac
            if [ "$name" = floor ] && [ "$w" != 1k ]; then
                record "$part" "$name" "$w" n/a - - - - "the floor answers small files only"
            elif ! bench_alive "$BENCH_PID"; then
                record "$part" "$name" "$w" failed - - - - "server exited"
            elif run_wrk "$BENCH_PORT" "$path" "$conns" "$log-$w"; then
                record "$part" "$name" "$w" ok "$RATE" "$P99" "$CPU_US" "$GEN_CPU" "$NOTE"
            else
                record "$part" "$name" "$w" failed - - - - "$NOTE"
            fi
        done
        bench_stop "$BENCH_PID"
    done
}

report() {
    PYTHONPATH="$ROOT/bench" python3 - "$TSV" "$RESULTS" "$META" <<'EOF'
import statistics, sys

from results_table import markdown_document, text_table

tsv, results, meta = sys.argv[1:4]
rows = [l.rstrip("\n").split("\t") for l in open(tsv) if l.strip()]
order, runs, notes = [], {}, {}
for part, server, work, status, rate, p99, cpu, gen, note in rows:
    key = (part, server, work)
    if key not in order:
        order.append(key)
    if status == "ok":
        runs.setdefault(key, []).append((float(rate), float(p99), float(cpu) if cpu != "-" else None,
                                         float(gen) if gen != "-" else None))
    elif note:
        notes[key] = status + ": " + note


def median(key):
    r = runs.get(key)
    if not r:
        return None
    r = sorted(r)
    return r[(len(r) - 1) // 2]


def ratio(key, anchor):
    a, b = median(key), median((key[0], anchor, key[2]))
    return "%.2f" % (a[0] / b[0]) if a and b else "n/a"


def cpu(key):
    # the median of the runs' CPU time per request
    c = sorted(x[2] for x in runs.get(key, []) if x[2] is not None)
    return c[(len(c) - 1) // 2] if c else None


def gen_cpu(key):
    # the median of wrk's CPU share over the runs, %
    g = sorted(x[3] for x in runs.get(key, []) if x[3] is not None)
    return "%.0f" % g[(len(g) - 1) // 2] if g else "n/a"


def cpu_ratio(key, anchor):
    # the anchor's CPU per request over the server's: > 1 is less work
    a, b = cpu(key), cpu((key[0], anchor, key[2]))
    return "%.2f" % (b / a) if a and b else "n/a"


work_name = {"1k": "1 KiB, 50 conns", "1m": "1 MiB, 10 conns"}
head = ["part", "server", "workload", "requests/s", "p99 ms", "runs", "vs lighttpd", "vs nginx",
        "CPU µs/req", "CPU vs lighttpd", "CPU vs nginx", "wrk CPU %", "notes"]
table = []
for key in order:
    part, server, work = key
    m = median(key)
    nginx = "nginx" if part == "1" else "nginx2"
    cells = [part, server, work_name[work]]
    if m:
        spread = [x[0] for x in runs[key]]
        c = cpu(key)
        cells += ["{:,.0f}".format(m[0]), "%.2f" % (m[1] / 1000), str(len(spread)),
                  ratio(key, "lighttpd") if part == "1" else "-", ratio(key, nginx),
                  "%.1f" % c if c else "n/a", cpu_ratio(key, "lighttpd") if part == "1" else "-",
                  cpu_ratio(key, nginx), gen_cpu(key)]
    else:
        cells += ["-", "-", "0", "-", "-", "-", "-", "-", "-"]
    cells.append(notes.get(key, "") if not m else
                 "min {:,.0f} max {:,.0f}".format(min(spread), max(spread)) if len(spread) > 1 else "")
    table.append(cells)

right = {3, 4, 5, 6, 7, 8, 9, 10, 11}
print(text_table(head, table, right))

with open(results + "/http.md", "w") as md:
    md.write(markdown_document("sk serve http vs lighttpd and nginx: static files over keep-alive", meta, head, table, right))
with open(results + "/http.dat", "w") as dat:
    dat.write("# part server workload median_requests_per_s median_p99_us median_cpu_us_per_request"
              " runs (bench/http.sh)\n")
    for key in order:
        m, c = median(key), cpu(key)
        if not m and key[1] == "floor":
            continue
        dat.write("%s %s %s %s %s %s %d\n" % (key[0], key[1], key[2], "%.0f" % m[0] if m else "NaN",
                                             "%.0f" % m[1] if m else "NaN", "%.2f" % c if c else "NaN",
                                             len(runs.get(key, []))))
EOF
}

main() {
    build_all
    mkdir -p "$RESULTS" "$LOGS"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sk-bench-http.XXXXXX")
    chmod 755 "$WORK" # nginx workers run as an unprivileged user
    make_docroot
    bench_raise_nofile 65536
    TSV=$WORK/results.tsv
    : >"$TSV"
    local part r notes=""
    for part in $PARTS; do
        case $part in
        1) bench_pin_cpus
           say "== part 1: one core each ($BENCH_PIN_NOTE), wrk ${DURATION} s, $REPEAT round(s)"
           notes+="Part 1: sk serve http --model epoll, lighttpd, nginx worker_processes 1, and the floor (bench/anchors/http_floor.c: one read and one write of a reply made at start per request, no parsing, stat or open: what no server beats with this wrk on this machine); $BENCH_PIN_NOTE.\\n"
           for ((r = 1; r <= REPEAT; r++)); do
               say "-- round $r"
               measure_round 1 "$r" sk-epoll lighttpd nginx floor
           done ;;
        2) bench_pin_cpus 2
           say "== part 2: two workers ($BENCH_PIN_NOTE), wrk ${DURATION} s, $REPEAT round(s)"
           notes+="Part 2: sk serve http --model reactors --workers 2, nginx worker_processes 2 (reuseport); $BENCH_PIN_NOTE.\\n"
           for ((r = 1; r <= REPEAT; r++)); do
               say "-- round $r"
               measure_round 2 "$r" sk-reactors2 nginx2
           done ;;
        esac
    done
    META="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r); wrk -t1, ${DURATION} s per run, median of $REPEAT round(s) (servers measured in turn each round).\\n$(nginx -v 2>&1 | head -1); $(lighttpd -v 2>&1 | head -1).\\n$notes"
    report
    say "results: $RESULTS/http.md, $RESULTS/http.dat (logs: $LOGS)"
}

main "$@"
