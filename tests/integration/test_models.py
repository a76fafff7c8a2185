"""The same services under every concurrency model: one implementation of
echo and upper, many models. Each model gets the same behavioural suite
(seed-style clients over TCP, Unix and UDP, concurrency, big transfers,
graceful shutdown, --idle-timeout, --max-conns, a peer that never reads,
descriptor exhaustion). SK_TEST_MODELS=a,b limits the models run."""
import os
import selectors
import signal
import socket
import tempfile
import shutil
import time
import unittest

from skharness import (ModelUnavailable, Server, connect_all_then_send, proc_cpu_seconds,
                       proc_rss_bytes, recv_exact, refused, wait_for)

ALL_MODELS = ["iterative", "thread", "fork", "prefork", "pool", "select", "poll", "epoll",
              "reactors", "uring"]
MODELS = [m for m in os.environ.get("SK_TEST_MODELS", ",".join(ALL_MODELS)).split(",") if m]
CONCURRENT = 20
# Models whose fd table is the server's own (not one process per client).
SHARED_FD_MODELS = {"thread", "pool", "select", "poll", "epoll", "reactors", "uring"}
BULK_MODELS = {"epoll", "reactors", "uring"}


def round_trip(addr, payload=b"hello world", family=socket.AF_INET):
    sk = socket.socket(family, socket.SOCK_STREAM)
    sk.settimeout(15)
    sk.connect(addr)
    sk.sendall(payload)
    data = recv_exact(sk, len(payload))
    sk.close()
    return data


def serving(addr, payload):
    """True when a round trip of payload comes back whole (an error: not yet)."""
    try:
        return round_trip(addr, payload) == payload
    except OSError:
        return False


class ModelSuite:
    """Mixed into one TestCase per model (see the bottom of the file)."""
    model = None

    def serve(self, *args, **kw):
        extra = []
        if self.model in ("prefork", "pool") and "--workers" not in args:
            extra = ["--workers", str(CONCURRENT + 4)]
        try:
            return Server(*args, "--model", self.model, *extra, **kw)
        except ModelUnavailable as e:
            if self.model == "uring":
                self.skipTest("io_uring unavailable: %s" % e)
            raise

    def test_seed_clients_tcp_unix_udp(self):
        tmp = tempfile.mkdtemp(prefix="sk-model-")
        path = os.path.join(tmp, "u.sock")
        try:
            with self.serve("upper=127.0.0.1:0", "echo=tcp:127.0.0.1:0",
                            "upper=unix:" + path) as srv:
                self.assertEqual(round_trip(srv.addr("upper")), b"HELLO WORLD")
                self.assertEqual(round_trip(srv.addr("echo")), b"hello world")
                self.assertEqual(round_trip(path, family=socket.AF_UNIX), b"HELLO WORLD")
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                u.settimeout(10)
                u.sendto(b"hello world", srv.addr("upper", "udp"))
                self.assertEqual(u.recvfrom(1024)[0], b"HELLO WORLD")
                u.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_concurrent_clients(self):
        if self.model == "iterative":
            self.skipTest("iterative serves one client at a time by design")
        with self.serve("upper=tcp:127.0.0.1:0") as srv:
            got = connect_all_then_send(srv.addr("upper"), CONCURRENT)
            self.assertEqual(got, [b"CLIENT %d" % i for i in range(CONCURRENT)])

    def test_large_echo_byte_identical(self):
        payload = os.urandom(8 << 20)
        with self.serve("echo=tcp:127.0.0.1:0") as srv:
            sk = socket.create_connection(srv.addr("echo"), timeout=30)
            sk.setblocking(False)
            sel = selectors.DefaultSelector()
            sel.register(sk, selectors.EVENT_READ | selectors.EVENT_WRITE)
            sent, got = 0, bytearray()
            deadline = time.monotonic() + 60
            while len(got) < len(payload) and time.monotonic() < deadline:
                for _, ev in sel.select(timeout=1):
                    if ev & selectors.EVENT_WRITE and sent < len(payload):
                        sent += sk.send(payload[sent:sent + (1 << 20)])
                        if sent == len(payload):
                            sel.modify(sk, selectors.EVENT_READ)
                    if ev & selectors.EVENT_READ:
                        chunk = sk.recv(1 << 20)
                        self.assertTrue(chunk, "server closed early")
                        got += chunk
            sel.close()
            sk.close()
            self.assertEqual(bytes(got), payload)

    def test_sigterm_lets_live_connections_finish(self):
        if self.model == "iterative":
            self.skipTest("iterative has one live connection at most")
        srv = self.serve("echo=tcp:127.0.0.1:0", "--grace", "20")
        try:
            addr = srv.addr("echo")
            socks = [socket.create_connection(addr, timeout=15) for _ in range(CONCURRENT)]
            for s in socks:
                s.sendall(b"ping")
                self.assertEqual(recv_exact(s, 4), b"ping")
            srv.signal(signal.SIGTERM)
            # The listener closes at once.
            self.assertTrue(wait_for(lambda: refused(addr)), "still accepting after SIGTERM")
            for s in socks:  # live connections still served during the grace period
                s.sendall(b"after")
                self.assertEqual(recv_exact(s, 5), b"after")
                s.close()
            self.assertEqual(srv.wait(20), 0)
        finally:
            srv.__exit__()

    def test_idle_timeout(self):
        with self.serve("echo=tcp:127.0.0.1:0", "--idle-timeout", "1") as srv:
            quiet = socket.create_connection(srv.addr("echo"), timeout=10)
            start = time.monotonic()
            self.assertEqual(quiet.recv(16), b"")  # closed by the server
            waited = time.monotonic() - start
            quiet.close()
            self.assertGreater(waited, 0.5)
            self.assertLess(waited, 2.5)
            # A client that keeps talking is not cut.
            busy = socket.create_connection(srv.addr("echo"), timeout=10)
            for _ in range(6):
                busy.sendall(b"x")
                self.assertEqual(busy.recv(1), b"x")
                time.sleep(0.3)
            busy.close()
            self.assertIn("(idle timeout)", srv.stderr_text())

    def test_max_conns(self):
        if self.model in ("iterative", "prefork"):
            self.skipTest("the process/one-at-a-time models bound concurrency by design")
        with self.serve("echo=tcp:127.0.0.1:0", "--max-conns", "10") as srv:
            addr = srv.addr("echo")
            socks = [socket.create_connection(addr, timeout=10) for _ in range(10)]
            for s in socks:
                s.sendall(b"in")
                self.assertEqual(recv_exact(s, 2), b"in")
            extra = socket.create_connection(addr, timeout=10)
            self.assertEqual(extra.recv(16), b"")  # closed cleanly, no data
            extra.close()
            for s in socks:
                s.close()
            # Room again once the others left.
            self.assertTrue(wait_for(lambda: serving(addr, b"again"), 10, 0.1),
                            "not serving again after the connections left")
            self.assertRegex(srv.stderr_text(), r"refuse echo .*--max-conns 10")

    def test_peer_that_never_reads_is_bounded(self):
        with self.serve("echo=tcp:127.0.0.1:0") as srv:
            before = proc_rss_bytes(srv.proc.pid)
            sk = socket.create_connection(srv.addr("echo"), timeout=10)
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            sk.setblocking(False)
            chunk = b"z" * (1 << 20)
            sent, stalled_since = 0, None
            deadline = time.monotonic() + 60
            while sent < (100 << 20) and time.monotonic() < deadline:
                try:
                    sent += sk.send(chunk)
                    stalled_since = None
                except BlockingIOError:
                    stalled_since = stalled_since or time.monotonic()
                    if time.monotonic() - stalled_since > 1.5:
                        break  # the server stopped reading: backpressure
                    time.sleep(0.01)
            growth = proc_rss_bytes(srv.proc.pid) - before
            sk.close()
            self.assertLess(sent, 100 << 20, "server kept reading a peer that never reads")
            self.assertLess(growth, 48 << 20, "server buffered %d bytes" % growth)
            self.assertEqual(round_trip(srv.addr("echo")), b"hello world")

    def test_descriptor_exhaustion_no_busy_loop(self):
        if self.model not in SHARED_FD_MODELS:
            self.skipTest("one process per client: the server's own fds do not run out")
        with self.serve("echo=tcp:127.0.0.1:0", nofile=64) as srv:
            addr = srv.addr("echo")
            hogs = []
            try:
                for _ in range(90):  # more than the server can hold
                    hogs.append(socket.create_connection(addr, timeout=5))
                time.sleep(0.5)
                cpu0 = proc_cpu_seconds(srv.proc.pid)
                time.sleep(2.0)
                used = proc_cpu_seconds(srv.proc.pid) - cpu0
                self.assertLess(used, 0.1, "server spun: %.2f s CPU in 2 s" % used)
            finally:
                for h in hogs:
                    h.close()
            self.assertTrue(wait_for(lambda: serving(addr, b"back"), 15, 0.2),
                            "not serving again once descriptors were free")

    def test_thousand_clients_each_echo_1mib(self):
        if self.model not in BULK_MODELS:
            self.skipTest("bulk test runs on the event models")
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
        n, size = 1000, 1 << 20
        payload = os.urandom(size)
        with self.serve("echo=tcp:127.0.0.1:0") as srv:
            self.assertEqual(bulk_echo(srv.addr("echo"), n, payload, 180), n)


def bulk_echo(addr, n, payload, limit_s):
    """n non-blocking clients each send payload and check the echo; returns
    how many finished byte-exact within limit_s."""
    sel = selectors.DefaultSelector()
    state = {}
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(addr)
        state[s] = [0, 0]  # bytes sent, bytes verified
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    view = memoryview(payload)
    done = 0
    deadline = time.monotonic() + limit_s
    while state and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            st = state[s]
            if ev & selectors.EVENT_WRITE and st[0] < len(payload):
                try:
                    st[0] += s.send(view[st[0]:st[0] + 65536])
                except (BlockingIOError, InterruptedError):
                    pass
                if st[0] == len(payload):
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    chunk = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                if not chunk or view[st[1]:st[1] + len(chunk)] != chunk:
                    raise AssertionError("echo mismatch or early close at byte %d" % st[1])
                st[1] += len(chunk)
                if st[1] == len(payload):
                    sel.unregister(s)
                    s.close()
                    del state[s]
                    done += 1
    for s in state:
        s.close()
    sel.close()
    return done


for _model in MODELS:
    _name = "Model_" + _model
    globals()[_name] = type(_name, (ModelSuite, unittest.TestCase), {"model": _model})
del _model, _name

if __name__ == "__main__":
    unittest.main()
