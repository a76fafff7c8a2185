#!/usr/bin/env bash
# bench/transfer.sh: file transfer throughput on loopback — sockkit's
# verified upload and download against nc, socat and iperf3, in one run.
#
# One file of TRANSFER_SIZE bytes (default 1 GiB, random) is moved over
# 127.0.0.1 by each of:
#   sockkit upload     sk send SRC 127.0.0.1:PORT
#                      to a fresh `sk serve file=127.0.0.1:0 --file-root ROOT`
#   sockkit download   sk get 127.0.0.1:PORT NAME -o DIR
#                      from a fresh server whose root holds the file
#   nc                 nc -N 127.0.0.1 PORT < SRC  →  nc -l 127.0.0.1 0 > DST
#                      (Debian's netcat-openbsd)
#   socat              socat -b 131072 -u FILE:SRC TCP:127.0.0.1:PORT  →
#                      socat -b 131072 -u TCP-LISTEN:0,bind=127.0.0.1,reuseaddr CREATE:DST
#   iperf3             iperf3 -c 127.0.0.1 -p PORT -n SIZE -J  →  iperf3 -s -1:
#                      one stream, bytes from memory to memory, no file (the
#                      ceiling of one TCP stream on this machine)
#   iperf3 -F          the same, the client reading SRC (-F)
#   cp                 cp SRC DST: no network, what writing the file costs
#                      here — the ceiling of any file-to-file transfer
# sockkit verifies every transfer end to end (the XXH3-128 digest of the
# whole file; sk send / sk get exit 0 only when it matched); nc and socat
# verify nothing. Every received file is also compared with the source
# (cmp), outside the timed part.
#
# Each measurement is wall time: the client command's, from its start to
# its exit; for nc and socat until the receiver has the whole file too (both
# processes have exited). The figure kept is the median of BENCH_REPEAT
# measurements, each with fresh processes; the measurements go in rounds
# (every transfer once, then again), so that a drift in the machine's speed
# weighs on all alike. MB/s is 10^6 bytes per second.
# The listening side is pinned to one CPU and the connecting side to another
# (taskset) when two are available. The data lives in a tmpfs (/dev/shm)
# when it has room, else in a temporary directory on disk (then the disk's
# speed counts in the receiving side's figure); the source file is in the
# page cache either way (just written, then read once) — nothing is dropped.
#
# Output: a table on stdout (seconds, MB/s, GiB/s, ratio to nc, to socat and
# to iperf3 measured in the same run) and the targets (sockkit ≥ 2.5× nc,
# ≥ 0.9× iperf3); in bench/results/: transfer.md, transfer.dat, and
# transfer.svg / transfer.png (bars, with gnuplot). A transfer that cannot
# run here is "n/a" (with the reason); one that breaks is "failed".
#
# usage: bench/transfer.sh          (from anywhere; builds what is missing)
# environment:
#   TRANSFER_SIZE    bytes to move: a number, or with K, M, G (binary: 1G =
#                    1073741824, as head -c and iperf3 read it); default 1G
#   BENCH_REPEAT     measurements per transfer, the median is kept (default 3)
#   BENCH_TRANSFERS  which to run (default: "sockkit-upload sockkit-download
#                    nc socat iperf3 iperf3-file cp"); also sockkit-upload-sha256
#                    and sockkit-download-sha256 (--hash sha256)
#   BENCH_DATA_DIR   where the files go (default /dev/shm if it has room for
#                    two copies, else $TMPDIR or /tmp)
#   BENCH_PIN        0: do not pin to CPUs (default 1)
#   BENCH_SK_MODEL   the file server's concurrency model (sk serve --model;
#                    default: sk serve's own default)
#   BENCH_SK_BASE    another sk binary (say, a build of an earlier commit):
#                    adds base-upload and base-download, the same transfers
#                    with it (client and server), to the default list, for
#                    a before/after comparison in the same run
#   BENCH_RESULTS    output directory (default bench/results)
#   BUILD            sockkit build directory (default build)
#   BENCH_NO_BUILD   1: use the sk already built
#   BENCH_CHART_ONLY 1: only redraw the chart from BENCH_RESULTS/transfer.dat
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/bench/lib.sh"

bench_paths transfer
REPEAT=${BENCH_REPEAT:-3}
SK_BASE=${BENCH_SK_BASE:-}
TRANSFERS=${BENCH_TRANSFERS:-"sockkit-upload sockkit-download ${SK_BASE:+base-upload base-download }nc socat iperf3 iperf3-file cp"}
SK_RUN=$SK             # the sk of the transfer being measured (SK or SK_BASE)
SK_MODEL=${BENCH_SK_MODEL:-} # sk serve --model; empty: its default
NAME=transfer.bin      # the file's name on the sockkit server
DATA=""                # the temporary directory holding the files
WAIT_PIDS=""           # listening sides started with listener_start, not yet reaped

cleanup() {
    local p
    bench_cleanup
    for p in $WAIT_PIDS; do wait "$p" 2>/dev/null; done
    [ -n "$DATA" ] && rm -rf "$DATA"
}
bench_traps cleanup

die() { say "transfer.sh: $*"; exit 1; }

# parse_size TEXT: bytes, from 123, 64K, 8M, 1G, 2T (binary multiples).
parse_size() {
    local n unit
    [[ $1 =~ ^([0-9]+)([kKmMgGtT]?)(i?[bB])?$ ]] || return 1
    n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]}
    case $unit in
    k | K) n=$((n << 10)) ;;
    m | M) n=$((n << 20)) ;;
    g | G) n=$((n << 30)) ;;
    t | T) n=$((n << 40)) ;;
    esac
    [ "$n" -gt 0 ] || return 1
    echo "$n"
}

# avail_bytes DIR: free bytes in DIR's file system (0 if unknown).
avail_bytes() {
    df -P -B1 "$1" 2>/dev/null | awk 'NR == 2 && $4 ~ /^[0-9]+$/ { print $4; found = 1 } END { if (!found) print 0 }'
}

# pick_data_dir: make DATA, in a tmpfs when one has room for the source and
# one received copy (plus 64 MiB); sets DATA_NOTE (which, in words).
pick_data_dir() {
    local need=$((SIZE * 2 + (64 << 20))) base fstype
    if [ -n "${BENCH_DATA_DIR:-}" ]; then
        base=$BENCH_DATA_DIR
    elif [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(avail_bytes /dev/shm)" -ge "$need" ]; then
        base=/dev/shm
    else
        base=${TMPDIR:-/tmp}
    fi
    DATA=$(mktemp -d "$base/sk-transfer.XXXXXX") || die "cannot make a directory in $base"
    [ "$(avail_bytes "$DATA")" -ge "$need" ] ||
        say "transfer.sh: WARNING: $base may be too small (needs $need bytes free)"
    fstype=$(stat -f -c %T "$DATA" 2>/dev/null || echo unknown)
    if [ "$fstype" = tmpfs ]; then
        DATA_NOTE="files in a tmpfs ($base)"
    else
        DATA_NOTE="files on disk ($base, $fstype: its write speed counts on the receiving side)"
    fi
}

# make_source: DATA/src.bin, SIZE random bytes, read once more so that it is
# certainly in the page cache.
make_source() {
    SRC=$DATA/src.bin
    say "== writing $SIZE random bytes to $SRC"
    head -c "$SIZE" /dev/urandom >"$SRC" || die "cannot write $SRC"
    [ "$(stat -c %s "$SRC")" = "$SIZE" ] || die "$SRC is short (out of space?)"
    cat "$SRC" >/dev/null
    # Touch as much memory again as one received copy takes, and free it: in
    # a virtual machine whose host backs guest memory on first use, the
    # first transfer would otherwise pay for that and look several times
    # slower than the next.
    cp "$SRC" "$DATA/warm.bin" && rm -f "$DATA/warm.bin"
}

# listener_start LOGPREFIX OUT WAITFILE REGEX CMD...: start a listening
# side in its own session, pinned with SERVER_PIN and bounded by
# XFER_TIMEOUT, stdout to OUT, stderr to LOGPREFIX.err; wait (bounded) for
# a line matching REGEX in WAITFILE, whose match ends with the port. Sets
# BENCH_PID and BENCH_PORT; returns 1 with BENCH_REASON if it does not start.
listener_start() {
    local prefix=$1 out=$2 waitfile=$3 regex=$4 pid tries line
    shift 4
    BENCH_PID="" BENCH_PORT="" BENCH_REASON=""
    : >"$prefix.err"
    : >"$waitfile"
    setsid "${SERVER_PIN[@]}" timeout -k 5 "$XFER_TIMEOUT" "$@" >"$out" 2>"$prefix.err" </dev/null &
    pid=$!
    BENCH_PIDS="$BENCH_PIDS $pid"
    WAIT_PIDS="$WAIT_PIDS $pid"
    tries=$((BENCH_START_TIMEOUT * 100))
    while [ "$tries" -gt 0 ]; do
        line=$(grep -m1 -o -E "$regex" "$waitfile" 2>/dev/null || true)
        if [ -n "$line" ]; then
            BENCH_PID=$pid
            BENCH_PORT=${line##*[!0-9]}
            return 0
        fi
        if ! bench_alive "$pid"; then
            listener_reap "$pid"
            BENCH_REASON=$(bench_last_line "$prefix.err" "exited before listening")
            return 1
        fi
        sleep 0.01
        tries=$((tries - 1))
    done
    BENCH_REASON="not listening within ${BENCH_START_TIMEOUT} s"
    bench_stop "$pid"
    listener_reap "$pid"
    return 1
}

# listener_reap PID: wait for a listening side (bounded: it runs under
# timeout); sets LISTENER_RC.
listener_reap() {
    local p rest=""
    wait "$1" 2>/dev/null
    LISTENER_RC=$?
    bench_forget "$1"
    for p in $WAIT_PIDS; do [ "$p" = "$1" ] || rest="$rest $p"; done
    WAIT_PIDS=$rest
}

# cpu_mark: CPU_MARK = the user and system time of this shell's reaped
# children ("0m1.234s 0m0.567s", from the times builtin: no fork, so that
# nothing of its own is counted).
cpu_mark() {
    local cu cs
    times >"$CPU_FILE"
    { read -r _ && read -r cu cs; } <"$CPU_FILE"
    CPU_MARK="$cu $cs"
}

# cpu_taken: CPU_TAKEN = CPU seconds (user + system) of the processes
# reaped since run_client started the connecting side: both sides of one
# transfer once the listening side is reaped too. Unlike wall time it does
# not grow when other work on the machine keeps a side waiting for a CPU.
cpu_taken() {
    cpu_mark
    CPU_TAKEN=$(awk -v a="$CPU_START" -v b="$CPU_MARK" '
        function sec(t, p) { sub(/s$/, "", t); split(t, p, "m"); return p[1] * 60 + p[2] }
        BEGIN { split(a, x, " "); split(b, y, " ")
                printf "%.3f", sec(y[1]) + sec(y[2]) - sec(x[1]) - sec(x[2]) }')
}

# run_client LOG CMD... [< input in CLIENT_IN]: run the connecting side,
# pinned with CLIENT_PIN, bounded by XFER_TIMEOUT, in the background (so a
# signal to this script is handled at once); sets CLIENT_RC and T0 (its
# start, $EPOCHREALTIME).
run_client() {
    local log=$1
    shift
    cpu_mark
    CPU_START=$CPU_MARK
    T0=$EPOCHREALTIME
    bench_run_child timeout -k 5 "$XFER_TIMEOUT" "${CLIENT_PIN[@]}" "$@" <"${CLIENT_IN:-/dev/null}" \
        >"$log.out" 2>"$log.err"
    CLIENT_RC=$?
}

# elapsed T0 T1: T1 - T0 in seconds (6 decimals), from two $EPOCHREALTIME.
elapsed() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'
}

# same_file FILE: does FILE hold exactly the source's bytes? Sets NOTE if not.
same_file() {
    local got
    if [ ! -f "$1" ]; then
        NOTE="no file received"
        return 1
    fi
    got=$(stat -c %s "$1")
    if [ "$got" != "$SIZE" ]; then
        NOTE="received $got of $SIZE bytes"
        return 1
    fi
    if ! cmp -s "$SRC" "$1"; then
        NOTE="received bytes differ from the source"
        return 1
    fi
}

client_error() {
    local msg
    msg=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 2 | paste -sd ';' - | sed 's/;/; /g' | cut -c1-200)
    echo "${msg:-no message}"
}

# Each once_* runs one measurement: sets STATUS (ok, n/a, failed),
# SECONDS_TAKEN and NOTE (and INFO, extra words for an ok run).

once_nc() {
    local log=$1 dst=$DATA/nc.dst t1
    STATUS=failed SECONDS_TAKEN=- CPU_TAKEN=- NOTE="" INFO=""
    if ! listener_start "$log.recv" "$dst" "$log.recv.err" 'Listening on [^ ]+ [0-9]+' nc -v -l 127.0.0.1 0; then
        STATUS=n/a NOTE="nc -l: $BENCH_REASON"
        return
    fi
    CLIENT_IN=$SRC run_client "$log.send" nc -N 127.0.0.1 "$BENCH_PORT"
    listener_reap "$BENCH_PID"
    cpu_taken
    t1=$EPOCHREALTIME
    finish_pipe "$dst" "$t1" nc
}

once_socat() {
    local log=$1 dst=$DATA/socat.dst t1
    STATUS=failed SECONDS_TAKEN=- CPU_TAKEN=- NOTE="" INFO=""
    if ! listener_start "$log.recv" /dev/null "$log.recv.err" 'listening on AF=2 [0-9.]+:[0-9]+' \
        socat -d -d -b 131072 -u TCP-LISTEN:0,bind=127.0.0.1,reuseaddr "CREATE:$dst"; then
        STATUS=n/a NOTE="socat listen: $BENCH_REASON"
        return
    fi
    run_client "$log.send" socat -b 131072 -u "FILE:$SRC" "TCP:127.0.0.1:$BENCH_PORT"
    listener_reap "$BENCH_PID"
    cpu_taken
    t1=$EPOCHREALTIME
    finish_pipe "$dst" "$t1" socat
}

# finish_pipe DST T1 TOOL: the verdict on a sender → receiver pair.
finish_pipe() {
    if [ "$CLIENT_RC" != 0 ]; then
        NOTE="sender exit $CLIENT_RC: $(client_error "$log.send.err")"
    elif [ "$LISTENER_RC" != 0 ]; then
        NOTE="receiver exit $LISTENER_RC: $(client_error "$log.recv.err")"
    elif same_file "$1"; then
        STATUS=ok SECONDS_TAKEN=$(elapsed "$T0" "$2")
    fi
    rm -f "$1"
}

# once_iperf3 LOG [FILE]: one iperf3 test of SIZE bytes, the client
# reading FILE when given.
once_iperf3() {
    local log=$1 file=${2:-} port parsed t1
    STATUS=failed SECONDS_TAKEN=- CPU_TAKEN=- NOTE="" INFO=""
    # iperf3 cannot listen on port 0: take a free port, and try again if
    # someone else takes it first.
    for _ in 1 2 3 4 5; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if listener_start "$log.recv" "$log.recv.out" "$log.recv.out" 'Server listening on [0-9]+' \
            iperf3 -s -1 -B 127.0.0.1 -p "$port" --forceflush; then
            break
        fi
    done
    if [ -z "$BENCH_PID" ]; then
        STATUS=n/a NOTE="iperf3 -s: $BENCH_REASON"
        return
    fi
    run_client "$log.send" iperf3 -c 127.0.0.1 -p "$BENCH_PORT" -n "$SIZE" ${file:+-F "$file"} -J
    t1=$EPOCHREALTIME
    listener_reap "$BENCH_PID"
    cpu_taken
    if ! parsed=$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]
s, r = e["sum_sent"], e["sum_received"]
print(s["bytes"], r["bytes"], r["bits_per_second"] / 8e6)
' "$log.send.out" 2>/dev/null); then
        NOTE="iperf3 -c exit $CLIENT_RC: $(client_error "$log.send.err")"
        return
    fi
    local sent recvd own
    read -r sent recvd own <<<"$parsed"
    if [ "$CLIENT_RC" != 0 ] || [ "$sent" != "$SIZE" ]; then
        NOTE="iperf3 -c exit $CLIENT_RC, sent $sent of $SIZE bytes"
        return
    fi
    STATUS=ok SECONDS_TAKEN=$(elapsed "$T0" "$t1")
    INFO="iperf3's own figure $(printf '%.0f' "$own") MB/s"
    [ "$recvd" = "$SIZE" ] || INFO="$INFO; its server counted $recvd bytes"
}

# once_cp LOG: a local copy, no network: what writing the file costs here.
once_cp() {
    local log=$1 dst=$DATA/cp.dst t1
    STATUS=failed SECONDS_TAKEN=- CPU_TAKEN=- NOTE="" INFO="local copy, no network"
    run_client "$log" cp "$SRC" "$dst"
    t1=$EPOCHREALTIME
    cpu_taken
    if [ "$CLIENT_RC" != 0 ]; then
        NOTE="cp exit $CLIENT_RC: $(client_error "$log.err")"
    elif same_file "$dst"; then
        STATUS=ok SECONDS_TAKEN=$(elapsed "$T0" "$t1")
    fi
    rm -f "$dst"
}

# sk_server LOG ROOT: a fresh sockkit file server on 127.0.0.1:0.
sk_server() {
    if ! bench_start "$1.server" "$SK_RUN" serve file=127.0.0.1:0 --file-root "$2" -q --grace 1 \
        ${SK_MODEL:+--model "$SK_MODEL"}; then
        STATUS=n/a NOTE="sk serve file: $BENCH_REASON"
        return 1
    fi
}

# once_sk_upload LOG [HASH]: sk send SRC to a fresh server with an empty root.
once_sk_upload() {
    local log=$1 hash=${2:-} root=$DATA/upload-root t1
    STATUS=failed SECONDS_TAKEN=- CPU_TAKEN=- NOTE="" INFO=""
    rm -rf "$root" && mkdir "$root" || return
    sk_server "$log" "$root" || return
    run_client "$log.send" "$SK_RUN" send "$SRC" "127.0.0.1:$BENCH_PORT" ${hash:+--hash "$hash"}
    t1=$EPOCHREALTIME
    bench_stop "$BENCH_PID"
    cpu_taken
    if [ "$CLIENT_RC" != 0 ]; then
        NOTE="sk send exit $CLIENT_RC: $(client_error "$log.send.err")"
    elif same_file "$root/$(basename "$SRC")"; then
        STATUS=ok SECONDS_TAKEN=$(elapsed "$T0" "$t1")
    fi
    rm -rf "$root"
}

# once_sk_download LOG [HASH]: sk get from a fresh server whose root holds
# the source (a hard link) into an empty directory.
once_sk_download() {
    local log=$1 hash=${2:-} root=$DATA/download-root out=$DATA/download-out t1
    STATUS=failed SECONDS_TAKEN=- CPU_TAKEN=- NOTE="" INFO=""
    rm -rf "$root" "$out" && mkdir "$root" "$out" || return
    ln "$SRC" "$root/$NAME" 2>/dev/null || cp "$SRC" "$root/$NAME" || return
    sk_server "$log" "$root" || return
    run_client "$log.get" "$SK_RUN" get "127.0.0.1:$BENCH_PORT" "$NAME" -o "$out" ${hash:+--hash "$hash"}
    t1=$EPOCHREALTIME
    bench_stop "$BENCH_PID"
    cpu_taken
    if [ "$CLIENT_RC" != 0 ]; then
        NOTE="sk get exit $CLIENT_RC: $(client_error "$log.get.err")"
    elif same_file "$out/$NAME"; then
        STATUS=ok SECONDS_TAKEN=$(elapsed "$T0" "$t1")
    fi
    rm -rf "$root" "$out"
}

# prepare NAME: can NAME run here? Sets ONCE (the command for one
# measurement) or returns 1 with BENCH_REASON.
prepare() {
    case $1 in
    sockkit-upload | sockkit-download | sockkit-upload-sha256 | sockkit-download-sha256 | \
        base-upload | base-download)
        local verb=send
        case $1 in *download*) verb="get" ;; esac
        SK_RUN=$SK
        case $1 in base-*) SK_RUN=$SK_BASE ;; esac
        if [ -z "$SK_RUN" ] || ! "$SK_RUN" "$verb" --help >/dev/null 2>&1; then
            BENCH_REASON="'sk $verb' is not built in ${SK_RUN:-BENCH_SK_BASE (unset)}"
            return 1
        fi
        case $1 in
        sockkit-upload | base-upload) ONCE=(once_sk_upload) ;;
        sockkit-download | base-download) ONCE=(once_sk_download) ;;
        sockkit-upload-sha256) ONCE=(once_sk_upload) HASH=sha256 ;;
        sockkit-download-sha256) ONCE=(once_sk_download) HASH=sha256 ;;
        esac ;;
    nc)
        command -v nc >/dev/null || { BENCH_REASON="nc not installed (netcat-openbsd)"; return 1; }
        nc -h 2>&1 | grep -q -- '-N' || { BENCH_REASON="this nc has no -N (want netcat-openbsd)"; return 1; }
        ONCE=(once_nc) ;;
    socat)
        command -v socat >/dev/null || { BENCH_REASON="socat not installed"; return 1; }
        ONCE=(once_socat) ;;
    iperf3 | iperf3-file)
        command -v iperf3 >/dev/null || { BENCH_REASON="iperf3 not installed"; return 1; }
        ONCE=(once_iperf3) ;;
    cp)
        ONCE=(once_cp) ;;
    *)
        BENCH_REASON="unknown transfer"
        return 1 ;;
    esac
}

# record NAME RUN STATUS SECONDS NOTE [CPU]
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:--}" >>"$TSV"
}

# measure_all: BENCH_REPEAT rounds, each running every transfer once in
# turn, so that a machine whose speed drifts (other load, a virtual machine)
# weighs on all of them alike. A transfer that cannot run here is recorded
# n/a once; one that fails is recorded and not run again.
measure_all() {
    local name i mbs active="" still
    for name in $TRANSFERS; do
        HASH=""
        if prepare "$name"; then
            active="$active $name"
        else
            record "$name" 0 n/a - "$BENCH_REASON"
            say "   $name: n/a ($BENCH_REASON)"
        fi
    done
    for ((i = 1; i <= REPEAT; i++)); do
        say "== round $i of $REPEAT"
        still=""
        for name in $active; do
            HASH=""
            prepare "$name"
            case $name in
            iperf3-file) "${ONCE[@]}" "$LOGS/$name-$i" "$SRC" ;;
            *) "${ONCE[@]}" "$LOGS/$name-$i" "$HASH" ;;
            esac
            if [ "$STATUS" != ok ]; then
                record "$name" "$i" "$STATUS" - "$NOTE"
                say "   $name #$i: $STATUS ($NOTE)"
                continue
            fi
            still="$still $name"
            record "$name" "$i" ok "$SECONDS_TAKEN" "$INFO" "$CPU_TAKEN"
            mbs=$(awk -v b="$SIZE" -v s="$SECONDS_TAKEN" 'BEGIN { printf "%.0f", b / s / 1e6 }')
            say "   $name #$i: $SECONDS_TAKEN s, $mbs MB/s, CPU $CPU_TAKEN s${INFO:+ ($INFO)}"
        done
        active=$still
    done
}

# report: the table and the targets on stdout, transfer.md and transfer.dat.
report() {
    PYTHONPATH="$ROOT/bench" python3 - "$TSV" "$RESULTS" "$SIZE" "$META" "$TRANSFERS" <<'EOF'
import sys

from results_table import markdown_document, text_table

tsv, results, size, meta = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
order = sys.argv[5].split()
LABEL = {"sockkit-upload": "sockkit upload", "sockkit-download": "sockkit download",
         "sockkit-upload-sha256": "sockkit upload sha256",
         "sockkit-download-sha256": "sockkit download sha256",
         "base-upload": "sockkit upload (base)", "base-download": "sockkit download (base)",
         "nc": "nc", "socat": "socat", "iperf3": "iperf3", "iperf3-file": "iperf3 -F", "cp": "cp"}
runs = {}
for line in open(tsv):
    if line.strip():
        name, _, status, secs, note, cpu = (line.rstrip("\n").split("\t") + ["-"])[:6]
        runs.setdefault(name, []).append((status, secs, note, cpu))
names = [n for n in order if n in runs] + [n for n in runs if n not in order]


def result(name):
    """(status, median seconds or None, note)."""
    rs = runs.get(name, [])
    bad = [r for r in rs if r[0] != "ok"]
    if bad or not rs:
        status, _, note, _ = bad[-1] if bad else ("n/a", "-", "not run", "-")
        return status, None, note
    times = sorted(float(r[1]) for r in rs)
    med = times[len(times) // 2]  # the upper middle when even: the slower
    notes = [r[2] for r in rs if r[2]]
    if len(rs) > 1:
        note = "median of %d (%s s)" % (len(rs), ", ".join("%.3f" % t for t in times))
    else:
        note = ""
    pick = [r for r in rs if abs(float(r[1]) - med) < 1e-9]
    if pick and pick[0][2]:
        note = (note + "; " if note else "") + pick[0][2]
    cpus = sorted(float(r[3]) for r in rs if r[3] not in ("", "-"))
    if cpus:
        note = (note + "; " if note else "") + "CPU %.2f s%s" % (
            cpus[len(cpus) // 2], " (%.2f-%.2f)" % (cpus[0], cpus[-1]) if len(cpus) > 1 else "")
    return "ok", med, note


def rate(name):
    _, secs, _ = result(name)
    return size / secs / 1e6 if secs else None


def ratio(name, anchor):
    a, b = rate(name), rate(anchor)
    return "%.2f" % (a / b) if a and b else "n/a"


head = ["transfer", "seconds", "MB/s", "GiB/s", "ratio to nc", "ratio to socat", "ratio to iperf3", "notes"]
right = {1, 2, 3, 4, 5, 6}
table = []
for name in names:
    status, secs, note = result(name)
    label = LABEL.get(name, name)
    if secs:
        r = size / secs
        table.append([label, "%.3f" % secs, "{:,.0f}".format(r / 1e6), "%.2f" % (r / 2**30),
                      ratio(name, "nc"), ratio(name, "socat"), ratio(name, "iperf3"), note])
    else:
        table.append([label, status, "-", "-", "-", "-", "-", note])


targets = []
for name in ("sockkit-upload", "sockkit-download"):
    if name not in runs:
        continue
    for anchor, want in (("nc", 2.5), ("iperf3", 0.9)):
        a, b = rate(name), rate(anchor)
        if a and b:
            verdict = "met" if a / b >= want else "NOT met"
            targets.append("%s >= %.1fx %s: %.2fx (%s)" % (LABEL[name], want, anchor, a / b, verdict))
        else:
            targets.append("%s >= %.1fx %s: not measured" % (LABEL[name], want, anchor))

print(text_table(head, table, right))
if targets:
    print()
    for t in targets:
        print("target: " + t)

with open(results + "/transfer.md", "w") as md:
    md.write(markdown_document("File transfer on loopback: sockkit (verified) vs nc, socat, iperf3", meta, head, table, right))
    if targets:
        md.write("\nTargets (from the issue):\n\n")
        for t in targets:
            md.write("- " + t + "\n")

with open(results + "/transfer.dat", "w") as dat:
    dat.write("# file transfer of %d bytes on loopback: median wall time (s), MB/s (10^6 B/s), GiB/s;\n" % size)
    dat.write("# NaN: not measured (status n/a: could not run; failed: broke). Written by bench/transfer.sh.\n")
    dat.write("# transfer seconds mb_per_s gib_per_s status\n")
    for name in names:
        status, secs, _ = result(name)
        if secs:
            dat.write("%-24s %.6f %.1f %.3f ok\n" % ('"%s"' % LABEL.get(name, name), secs,
                                                     size / secs / 1e6, size / secs / 2**30))
        else:
            dat.write("%-24s NaN NaN NaN %s\n" % ('"%s"' % LABEL.get(name, name), status))
EOF
}

chart() {
    if ! command -v gnuplot >/dev/null 2>&1; then
        say "transfer.sh: gnuplot not found: no chart (apt-get install gnuplot-nox)"
        return
    fi
    local human
    human=$(awk '/^# file transfer of/ { b = $5; u = "B"
                 if (b >= 2^30 && b % 2^30 == 0) { b /= 2^30; u = "GiB" }
                 else if (b >= 2^20 && b % 2^20 == 0) { b /= 2^20; u = "MiB" }
                 print b " " u; exit }' "$RESULTS/transfer.dat")
    gnuplot <<EOF || say "transfer.sh: gnuplot failed"
set terminal svg size 1000,600 dynamic font 'DejaVu Sans,12' background rgb 'white'
set output '$RESULTS/transfer.svg'
set title 'File transfer of ${human:-a file} on loopback — MB/s (10^6 bytes/s, higher is better); sockkit verifies end to end' noenhanced
set ylabel 'MB/s'
set style fill solid 0.85 border -1
set xtics rotate by -25 left noenhanced nomirror
set ytics nomirror
set grid ytics lc rgb '#dddddd'
set key off
set yrange [0:*]
set offsets 0.5, 0.5, graph 0.1, 0
# sockkit in blue, the anchors in orange
plot '$RESULTS/transfer.dat' using 0:3:(0.6):(strstrt(strcol(1), 'sockkit') ? 0x1f77b4 : 0xff7f0e):xtic(1) \
         with boxes lc rgb variable, \
     '' using 0:3:(sprintf('%.0f', \$3)) with labels offset 0,0.8 font ',10', \
     '' using 0:(0):(strcol(3) eq 'NaN' ? strcol(5) : '') with labels offset 0,0.8 font ',10' tc rgb '#777777'
set terminal pngcairo size 1100,660 font 'DejaVu Sans,12' background rgb 'white'
set output '$RESULTS/transfer.png'
replot
EOF
}

main() {
    if [ "${BENCH_CHART_ONLY:-0}" = 1 ]; then
        chart
        return
    fi
    SIZE=$(parse_size "${TRANSFER_SIZE:-1G}") || die "TRANSFER_SIZE: want bytes, or a number with K, M or G, not '${TRANSFER_SIZE:-}'"
    [[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT: want a positive count, not '$REPEAT'"
    # Each transfer is bounded: a minute plus the time at 20 MB/s.
    XFER_TIMEOUT=$((60 + SIZE / 20000000))
    bench_build_sk transfer.sh
    rm -rf "$LOGS"
    mkdir -p "$RESULTS" "$LOGS" || exit 1
    TSV=$LOGS/results.tsv
    CPU_FILE=$LOGS/cpu-times
    : >"$TSV"
    if [ "${BENCH_PIN:-1}" = 1 ]; then
        bench_pin_cpus
        BENCH_PIN_NOTE=${BENCH_PIN_NOTE/server on CPU/listening side on CPU}
        BENCH_PIN_NOTE=${BENCH_PIN_NOTE/load generator on CPU/connecting side on CPU}
    else
        BENCH_PIN_NOTE="not pinned (BENCH_PIN=0)"
    fi
    pick_data_dir
    make_source
    say "== $SIZE bytes; $DATA_NOTE; $BENCH_PIN_NOTE; median of $REPEAT; logs in $LOGS; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    local load0
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    measure_all
    META="$(date -u '+%Y-%m-%d %H:%M UTC'), Linux $(uname -r), $(nproc) CPU(s): \
$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'); \
load average $load0 before the run, $(cut -d' ' -f1-3 /proc/loadavg) after.\\n\
One file of $SIZE bytes ($(awk -v b="$SIZE" 'BEGIN { printf "%.3f GiB", b / 2^30 }'), random) over 127.0.0.1; \
$DATA_NOTE; the source file is in the page cache (nothing is dropped from it). $BENCH_PIN_NOTE. \
Each figure: $([ "$REPEAT" -gt 1 ] && echo "the median of $REPEAT wall-time measurements with fresh processes, in rounds (every transfer once, then again)" ||
    echo "one wall-time measurement with fresh processes") — the client command from start to exit \
(nc, socat: until both sender and receiver have exited). MB/s = 10^6 bytes/s.\\n\
sockkit: \`sk send SRC 127.0.0.1:PORT\` / \`sk get 127.0.0.1:PORT NAME -o DIR\` against \
\`sk serve file=127.0.0.1:0 --file-root ROOT${SK_MODEL:+ --model $SK_MODEL}\`\
$([ -z "$SK_MODEL" ] && echo " (its default model)"), the XXH3-128 digest verified end to end (exit 0 only on a match)\
${SK_BASE:+; (base): the same with $SK_BASE as client and server}. \
nc (netcat-openbsd): \`nc -N 127.0.0.1 PORT < SRC\` → \`nc -l 127.0.0.1 0 > DST\`. \
socat: \`socat -b 131072 -u FILE:SRC TCP:127.0.0.1:PORT\` → \`socat -b 131072 -u TCP-LISTEN:0,bind=127.0.0.1,reuseaddr CREATE:DST\`. \
iperf3: \`iperf3 -c 127.0.0.1 -p PORT -n $SIZE -J\` → \`iperf3 -s -1\`, one stream, memory to memory; \
iperf3 -F: the client reads SRC; iperf3's own figure is its client's report, and its server stops counting when \
the test ends, so it may count a little less than was sent. \
CPU (in the notes): user + system seconds of both sides of a transfer together (the median, and the range), \
from the script's reaped children; unlike wall time it does not grow while other work keeps a side waiting \
for a CPU. cp: \`cp SRC DST\`, no network, the cost of writing the file. nc and socat verify nothing; every received file was compared with the source (cmp) \
outside the timed part. Ratios are to nc, socat and iperf3 measured in the same run. Produced by bench/transfer.sh."
    report
    chart
    say "== results in $RESULTS/transfer.{md,dat,svg,png}"
}

main "$@"
