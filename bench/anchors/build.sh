#!/bin/sh
# Build the C benchmark anchors (uv_echo, event_echo, epoll_echo, and the
# floors http_floor and chat_floor) with
# gcc -O2 into OUTDIR, against Debian's libuv1-dev and libevent-dev.
#
# usage: bench/anchors/build.sh OUTDIR
#
# An anchor whose library headers are missing is skipped with a message;
# the others are still built. Exit status: 0 all built, 1 some skipped or
# failed, 2 usage error.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
src=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-gcc}
CFLAGS=${CFLAGS:--O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes}
mkdir -p "$out" || exit 1

# lib_flags PKG FALLBACK: compiler and linker flags from pkg-config, or FALLBACK.
lib_flags() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; then
        pkg-config --cflags --libs "$1"
    else
        echo "$2"
    fi
}

# have_header NAME: does the compiler find <NAME>?
have_header() {
    printf '#include <%s>\nint main(void) { return 0; }\n' "$1" |
        $CC -E -x c - >/dev/null 2>&1
}

status=0
# build NAME HEADER LIBFLAGS
build() {
    if [ -n "$2" ] && ! have_header "$2"; then
        echo "build.sh: $1 skipped: <$2> not found (apt-get install ${4:-its -dev package})" >&2
        status=1
        return
    fi
    # shellcheck disable=SC2086  # CFLAGS and library flags are word lists
    if ! $CC $CFLAGS -o "$out/$1" "$src/$1.c" $3; then
        echo "build.sh: $1 failed to build" >&2
        status=1
    fi
}

build uv_echo uv.h "$(lib_flags libuv -luv)" libuv1-dev
build event_echo event2/event.h "$(lib_flags libevent -levent)" libevent-dev
build epoll_echo "" ""
build http_floor "" ""
build chat_floor "" ""
exit $status
