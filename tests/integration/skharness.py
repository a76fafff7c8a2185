"""Shared helpers for the integration tests: start `sk serve`, read the
endpoints it prints, and stop it. Every wait here is bounded."""
import os
import re
import resource
import selectors
import signal
import subprocess
import threading
import time

SK_BIN = os.environ.get("SK_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "sk"))
LISTEN_RE = re.compile(r"^(\w+) listening on (tcp|udp|unix):(.+)$")


def read_line(stream, deadline):
    """One line from a pipe, or None at EOF or when the deadline passes."""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    try:
        buf = b""
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            ch = os.read(stream.fileno(), 1)
            if not ch:
                return None
            if ch == b"\n":
                return buf.decode()
            buf += ch
        return None
    finally:
        sel.close()


def parse_addr(text):
    """'127.0.0.1:7007' -> ('127.0.0.1', 7007); '[::1]:80' -> ('::1', 80)."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


OPTIONS_WITH_VALUE = {"-m", "--model", "-w", "--workers", "--grace", "--backlog", "--max-conns",
                      "--idle-timeout"}


def count_listeners(args):
    """How many 'listening on' lines `sk serve ARGS` prints: a plain
    host:port (or a default) gives TCP and UDP, a scheme gives one."""
    n, skip = 0, False
    for a in args:
        if skip:
            skip = False
        elif a in OPTIONS_WITH_VALUE:
            skip = True
        elif not a.startswith("-"):
            endpoint = a.partition("=")[2]
            n += 1 if endpoint.startswith(("tcp:", "udp:", "unix:")) else 2
    return n


def proc_cpu_seconds(pid):
    """User + system CPU time a process has used, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_bytes(pid):
    """Resident set size of a process, from /proc/PID/status (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class ModelUnavailable(Exception):
    """sk serve said the model is not available here (e.g. no io_uring)."""


class Server:
    """A running `sk serve`. endpoints[(service, transport)] = address:
    (host, port) for tcp/udp, a path (or '\\0name') for unix."""

    def __init__(self, *args, expect=None, timeout=10, nofile=None):
        preexec = None
        if nofile is not None:
            def preexec():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen([SK_BIN, "serve", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     preexec_fn=preexec)
        self.endpoints = {}
        self._err_chunks = []
        self._err_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._err_thread.start()
        deadline = time.monotonic() + timeout
        want = expect if expect is not None else count_listeners(args)
        while len(self.endpoints) < want:
            line = read_line(self.proc.stdout, deadline)
            if line is None:
                self.stop()
                err = self.stderr_text()
                if "not available" in err:
                    raise ModelUnavailable(err.strip())
                raise RuntimeError("sk serve did not start: " + err)
            m = LISTEN_RE.match(line)
            if not m:
                continue
            service, transport, where = m.groups()
            if transport == "unix":
                addr = "\0" + where[1:] if where.startswith("@") else where
            else:
                addr = parse_addr(where)
            self.endpoints[(service, transport)] = addr

    def _drain_stderr(self):
        # The server logs every connection: keep the pipe from filling up.
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self._err_chunks.append(chunk)

    def log(self):
        """What the server has written to stderr so far."""
        return b"".join(self._err_chunks).decode(errors="replace")

    def addr(self, service, transport="tcp"):
        return self.endpoints[(service, transport)]

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=15):
        return self.proc.wait(timeout=timeout)

    def stderr_text(self):
        """All of stderr once the server has exited (waits, bounded)."""
        self.stop()
        self._err_thread.join(timeout=5)
        return self.log()

    def stop(self):
        """SIGTERM, wait (bounded), kill if needed; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self._err_thread.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()


def run_sk(*args, input=None, timeout=30):
    """Run `sk ARGS...` to completion (bounded); returns CompletedProcess."""
    return subprocess.run([SK_BIN, *args], input=input, capture_output=True, timeout=timeout)
