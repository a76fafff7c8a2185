#!/usr/bin/env python3
"""idle_clients.py: hold many idle TCP connections to a loopback server.

usage: idle_clients.py PORT N

Opens up to N connections to 127.0.0.1:PORT and keeps them open, sending
nothing. Each socket is bound to a source address 127.0.0.2, 127.0.0.3, ...
(round robin, about 16,000 connections per address) so that the ephemeral
port range (about 28,000 ports) is not the limit. Connects are non-blocking
with at most 256 in flight. If a limit stops it early (EMFILE, no ports,
timeout), it keeps what it has and says why.

Protocol on stdout/stdin, one line each, for bench/idle.sh:
  prints  "connected M"  or  "connected M stopped: REASON"
  reads   "check"   -> sends 4 bytes on the first, middle and last connection
                       and prints "check ok" or "check failed: WHY"
  reads   "quit" or end of input -> closes everything and exits.
Every wait is bounded.
"""
import errno
import os
import select
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
PER_SOURCE = 16000
IN_FLIGHT = 256
CONNECT_TIMEOUT = 10.0   # seconds for one connect
TOTAL_TIMEOUT = 300.0    # seconds for all of them


def new_socket(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            # Pick the port at connect(), per destination: more ports per address.
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        except OSError:
            pass
        s.bind((source, 0))
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


def open_all(port, n):
    """Returns (connected sockets, reason it stopped early or None)."""
    sources = ["127.0.0.%d" % (2 + i) for i in range(max(1, -(-n // PER_SOURCE)))]
    ep = select.epoll()
    pending = {}   # fd -> (socket, start time)
    done = []
    reason = None
    deadline = time.monotonic() + TOTAL_TIMEOUT
    started = 0
    try:
        while (started < n and reason is None) or pending:
            if time.monotonic() > deadline:
                reason = reason or "timeout after %.0f s" % TOTAL_TIMEOUT
                break
            while started < n and reason is None and len(pending) < IN_FLIGHT:
                try:
                    s = new_socket(sources[started % len(sources)])
                except OSError as e:
                    reason = "socket/bind: " + os.strerror(e.errno)
                    break
                err = s.connect_ex(("127.0.0.1", port))
                if err not in (0, errno.EINPROGRESS):
                    s.close()
                    reason = "connect: " + os.strerror(err)
                    break
                pending[s.fileno()] = (s, time.monotonic())
                ep.register(s.fileno(), select.EPOLLOUT)
                started += 1
            for fd, _ in ep.poll(0.5):
                s, _ = pending.pop(fd)
                ep.unregister(fd)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    s.close()
                    reason = reason or "connect: " + os.strerror(err)
                else:
                    done.append(s)
            now = time.monotonic()
            for fd, (s, t0) in list(pending.items()):
                if now - t0 > CONNECT_TIMEOUT:
                    del pending[fd]
                    ep.unregister(fd)
                    s.close()
                    reason = reason or "connect timed out"
    finally:
        for s, _ in pending.values():
            s.close()
        ep.close()
    return done, reason


def check(conns):
    """Echo 4 bytes on the first, middle and last idle connection."""
    if not conns:
        return "check failed: no connections"
    for i in sorted({0, len(conns) // 2, len(conns) - 1}):
        s = conns[i]
        s.setblocking(True)
        s.settimeout(5)
        payload = b"p%03d" % (i % 1000)
        try:
            s.sendall(payload)
            data = b""
            while len(data) < len(payload):
                chunk = s.recv(64)
                if not chunk:
                    return "check failed: connection %d closed by the server" % i
                data += chunk
        except OSError as e:
            return "check failed: connection %d: %s" % (i, e)
        if data != payload:
            return "check failed: connection %d echoed %r" % (i, data)
    return "check ok"


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    port, n = int(sys.argv[1]), int(sys.argv[2])
    conns, reason = open_all(port, n)
    print("connected %d%s" % (len(conns), " stopped: " + reason if reason else ""), flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "check":
                print(check(conns), flush=True)
            elif line.strip() == "quit":
                break
    finally:
        for s in conns:
            s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
