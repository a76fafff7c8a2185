"""Shared helpers for the integration tests: start `sk serve`, read the
endpoints it prints, and stop it; start the example servers; the seeds'
client and other socket helpers. Every wait here is bounded."""
import json
import os
import re
import resource
import select
import selectors
import signal
import socket
import subprocess
import threading
import time

SK_BIN = os.environ.get("SK_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "sk"))
BUILD_DIR = os.environ.get(
    "SK_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
EXAMPLES_DIR = os.path.join(BUILD_DIR, "examples")
EXAMPLE_TIMEOUT = 10  # seconds for any one step of an example test
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


def proc_status_kib(pid, field):
    """A size field of /proc/PID/status in KiB ("VmRSS", "VmHWM", ...), or
    None when the process has none (a zombie)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def proc_rss_bytes(pid):
    """Resident set size of a process, from /proc/PID/status (VmRSS)."""
    return (proc_status_kib(pid, "VmRSS") or 0) * 1024


def wait_for(predicate, timeout=10, step=0.05):
    """Poll predicate until it is true or timeout seconds pass; returns its
    last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def bench_report(testcase, result):
    """The JSON report of a finished `sk bench ... --json` run (a
    CompletedProcess): asserts exit status 0 and latency percentiles that
    are all there and in order; returns the report."""
    testcase.assertEqual(result.returncode, 0, result.stderr.decode())
    report = json.loads(result.stdout)
    lat = report["latency_us"]
    testcase.assertEqual(set(lat), {"p50", "p90", "p99", "p999", "max"})
    testcase.assertTrue(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat)
    return report


def stop_process(proc, timeout=15):
    """SIGTERM, wait (bounded), kill if needed; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def seed_tcp_client(addr, payload=b"hello world", family=socket.AF_INET):
    """The seeds' client: socket(), connect(), send(), recv(1024), close()."""
    sk = socket.socket(family, socket.SOCK_STREAM)
    try:
        sk.settimeout(10)
        sk.connect(addr)
        sk.send(payload)
        data = b""
        while len(data) < len(payload):
            chunk = sk.recv(1024)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        sk.close()


def recv_exact(sock, n):
    """n bytes from a stream socket, or fewer if the peer closes first."""
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def recv_until_eof(sock, bufsize=65536):
    """Everything a stream socket receives until the peer closes."""
    data = bytearray()
    while True:
        chunk = sock.recv(bufsize)
        if not chunk:
            return bytes(data)
        data += chunk


def echo_through(addr, payload, timeout=30):
    """Send payload to a TCP echo server while a thread reads, half-close,
    and return what came back before the server closed (bounded)."""
    sk = socket.create_connection(addr, timeout=timeout)
    received = bytearray()

    def reader():
        while True:
            chunk = sk.recv(1 << 16)
            if not chunk:
                return
            received.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    sk.sendall(payload)
    sk.shutdown(socket.SHUT_WR)
    t.join(timeout=60)
    sk.close()
    return bytes(received)


def connect_all_then_send(addr, n):
    """n clients connect before any of them sends; each is then answered."""
    socks = [socket.create_connection(addr, timeout=15) for _ in range(n)]
    try:
        for i, s in enumerate(socks):
            s.sendall(b"client %d" % i)
        return [recv_exact(s, len(b"client %d" % i)) for i, s in enumerate(socks)]
    finally:
        for s in socks:
            s.close()


def refused(addr):
    """True when a TCP connection to addr fails (nobody accepting)."""
    try:
        socket.create_connection(addr, timeout=1).close()
        return False
    except OSError:
        return True


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
        return stop_process(self.proc)

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


def example(name):
    """Path of a built example program."""
    return os.path.join(EXAMPLES_DIR, name)


class ExampleServers:
    """Mixed into a unittest.TestCase: start an example server and stop it
    (killed and reaped) in cleanup."""

    def start_server(self, name, *args):
        """Start a server example; return (process, port) once it prints
        "listening on 127.0.0.1:PORT"."""
        proc = subprocess.Popen([example(name), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(self.stop, proc)
        ready, _, _ = select.select([proc.stdout], [], [], EXAMPLE_TIMEOUT)
        self.assertTrue(ready, f"{name} printed nothing in {EXAMPLE_TIMEOUT} s")
        line = proc.stdout.readline().decode()
        self.assertTrue(line.startswith("listening on 127.0.0.1:"), line)
        port = int(line.rsplit(":", 1)[1])
        self.assertGreater(port, 0)
        return proc, port

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=EXAMPLE_TIMEOUT)

    def finish(self, proc):
        """Wait for a bounded server to exit by itself; return its stdout."""
        out, err = proc.communicate(timeout=EXAMPLE_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err.decode())
        return out.decode()
