"""Find how many clients `ncat --chat` serves at once: connect clients one
at a time (reading everything every client receives, so that ncat never
blocks on a full socket) until one is refused, closed, not greeted within
a few seconds, or ncat exits. Prints that count: the clients that were all
connected and greeted at once.

usage: python3 bench/ncat_chat_probe.py PORT MAX [NCAT_PID]"""
import os
import selectors
import socket
import sys
import time

GREET_TIMEOUT = 5  # seconds for a new client's first line


def main():
    port, limit = int(sys.argv[1]), int(sys.argv[2])
    ncat_pid = int(sys.argv[3]) if len(sys.argv) > 3 else None
    sel = selectors.DefaultSelector()
    greeted, closed, socks = set(), set(), []

    def pump(timeout):
        for key, _ in sel.select(timeout):
            try:
                data = key.fileobj.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                closed.add(key.data)
                sel.unregister(key.fileobj)
            else:
                greeted.add(key.data)

    def alive():
        if ncat_pid is None:
            return True
        try:
            with open("/proc/%d/stat" % ncat_pid) as f:
                return f.read().rpartition(")")[2].split()[0] != "Z"
        except OSError:
            return False

    count = 0
    for i in range(limit):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=GREET_TIMEOUT)
        except OSError:
            break
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, i)
        # ncat greets client i ("already connected: ...") once others are there,
        # and tells client 0 about client 1
        want = i if i > 0 else None
        deadline = time.monotonic() + GREET_TIMEOUT
        while want is not None and want not in greeted and not closed and alive():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            pump(min(left, 0.1))
        pump(0)
        if closed or not alive() or (want is not None and want not in greeted):
            break
        count = i + 1
    for s in socks:
        s.close()
    print(count)


if __name__ == "__main__":
    main()
