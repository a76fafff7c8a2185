#!/bin/sh
# Install the Debian packages sockkit needs to build and test, only those
# missing. Idempotent and silent when everything is present.
set -eu

PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev libcmocka-dev \
python3 ncat socat netcat-openbsd iperf3 liburing-dev libuv1-dev libevent-dev gnuplot-nox \
libcjson-dev libxxhash-dev libssl-dev xxhash libedit-dev tmux media-types curl wrk \
nginx-light lighttpd chromium"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "sockkit: installing missing packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "sockkit: need root (or sudo) to install:$missing" >&2
        exit 1
    }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# nginx and lighttpd are benchmark anchors that bench/http.sh starts itself:
# keep their packages from starting system-wide daemons on port 80.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    own_policy=1
fi
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2 || status=$?
[ -n "$own_policy" ] && $SUDO rm -f "$policy"
exit "${status:-0}"
