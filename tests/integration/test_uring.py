"""`sk serve --model uring`: the io_uring model with the seeds' clients, a
thousand concurrent clients, a peer that never reads, graceful shutdown,
--idle-timeout and --max-conns, and file downloads from the file service
(sk_conn_sendfile). Skipped when this system has no io_uring
(the server then says so and exits 1). Loopback and ephemeral ports only;
every wait is bounded."""
import os
import re
import resource
import selectors
import signal
import socket
import tempfile
import threading
import time
import unittest

import skharness
from fileproto import FileClient, sha256_hex
from skharness import Server, proc_status_kib, recv_exact, run_sk, seed_tcp_client

# A thousand clients in this process, as many connections in the server
# (which inherits the limit).
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
_want = 8192 if _hard == resource.RLIM_INFINITY else min(_hard, 8192)
if _soft != resource.RLIM_INFINITY and _soft < _want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_want, _hard))

UNAVAILABLE = "io_uring is not available"
MiB = 1024 * 1024


def uring_server(*args, **kw):
    """Server(..., --model uring), or skip the test when io_uring is missing."""
    unavailable = getattr(skharness, "ModelUnavailable", RuntimeError)
    try:
        return Server(*args, "--model", "uring", **kw)
    except (unavailable, RuntimeError) as e:
        if UNAVAILABLE in str(e):
            raise unittest.SkipTest("io_uring unavailable here: " + str(e).strip()) from None
        raise


def round_trip(sock, payload):
    sock.sendall(payload)
    return recv_exact(sock, len(payload))


def closed_by_server(sock, timeout):
    """True when the server closes sock (EOF or reset) within timeout."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def vm_kib(pid, field):
    kib = proc_status_kib(pid, field)
    if kib is None:
        raise AssertionError("no %s for pid %d" % (field, pid))
    return kib


def vm_rss_kib(pid):
    return vm_kib(pid, "VmRSS")


def many_clients_echo(addr, nclients, size, deadline_s):
    """nclients non-blocking clients, all at once in one selector loop, each
    sending size bytes (its own rotation of one random block) while reading
    the echo; returns (clients byte-exact, mismatches, unfinished)."""
    block = os.urandom(size)
    doubled = memoryview(block + block)
    sel = selectors.DefaultSelector()
    state = {}
    for i in range(nclients):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(addr)
        shift = (i * 7919) % size
        state[s] = {"data": doubled[shift:shift + size], "sent": 0, "got": 0, "ok": True}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    done, bad = 0, 0
    deadline = time.monotonic() + deadline_s
    try:
        while state and time.monotonic() < deadline:
            for key, events in sel.select(timeout=1.0):
                s, st = key.fileobj, state[key.fileobj]
                if events & selectors.EVENT_WRITE and st["sent"] < size:
                    try:
                        st["sent"] += s.send(st["data"][st["sent"]:st["sent"] + 262144])
                    except (BlockingIOError, InterruptedError):
                        pass
                    if st["sent"] == size:
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    try:
                        chunk = s.recv(262144)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except ConnectionError:
                        chunk = b""
                    if chunk:
                        got = st["got"]
                        if got + len(chunk) > size or st["data"][got:got + len(chunk)] != chunk:
                            st["ok"] = False
                        st["got"] = got + len(chunk)
                        continue
                    if st["ok"] and st["got"] == size:
                        done += 1
                    else:
                        bad += 1
                    sel.unregister(s)
                    s.close()
                    del state[s]
    finally:
        for s in state:
            s.close()
        sel.close()
    return done, bad, len(state)


class UringSeedClients(unittest.TestCase):
    """The seeds' clients against the uring model, on every transport."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sk-uring-")
        cls.upath = os.path.join(cls.tmp, "upper.sock")
        cls.srv = uring_server("echo=127.0.0.1:0", "upper=127.0.0.1:0", "upper=unix:" + cls.upath,
                               expect=5)

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__()
        try:
            os.rmdir(cls.tmp)
        except OSError:
            pass

    def test_upper_and_echo_tcp(self):
        self.assertEqual(seed_tcp_client(self.srv.addr("upper")), b"HELLO WORLD")
        self.assertEqual(seed_tcp_client(self.srv.addr("echo")), b"hello world")

    def test_upper_unix(self):
        self.assertEqual(seed_tcp_client(self.upath, b"unix side", socket.AF_UNIX), b"UNIX SIDE")

    def test_udp_still_served(self):
        sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sk.settimeout(10)
        sk.sendto(b"datagram", self.srv.addr("echo", "udp"))
        self.assertEqual(sk.recvfrom(65535)[0], b"datagram")
        sk.close()

    def test_large_echo_is_byte_identical(self):
        # Sending and reading at once: a client that sends it all before
        # reading would stall on backpressure, as it should.
        self.assertEqual(many_clients_echo(self.srv.addr("echo"), 1, 32 * MiB, 60), (1, 0, 0))

    def test_pipelined_small_writes_keep_order(self):
        with socket.create_connection(self.srv.addr("upper"), timeout=10) as sk:
            parts = [b"part %d;" % i for i in range(2000)]
            for p in parts:
                sk.send(p)
            want = b"".join(parts).upper()
            self.assertEqual(self._read(sk, len(want)), want)

    @staticmethod
    def _read(sk, n):
        data = b""
        while len(data) < n:
            chunk = sk.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def test_half_close_gets_everything_then_eof(self):
        with socket.create_connection(self.srv.addr("echo"), timeout=10) as sk:
            sk.sendall(b"x" * 100000)
            sk.shutdown(socket.SHUT_WR)
            self.assertEqual(self._read(sk, 100001), b"x" * 100000)

    def test_log_lines_match_the_blocking_models(self):
        seed_tcp_client(self.srv.addr("echo"), b"12345")
        deadline = time.monotonic() + 5
        pat = re.compile(r"close echo tcp:127\.0\.0\.1:\d+ from 127\.0\.0\.1:\d+: "
                         r"5 bytes in, 5 bytes out, \d+\.\d{3} s$", re.M)
        while not pat.search(self.srv.log()) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertRegex(self.srv.log(), pat)
        self.assertRegex(self.srv.log(), r"open echo tcp:127\.0\.0\.1:\d+ from 127\.0\.0\.1:\d+")


class UringLoad(unittest.TestCase):
    def test_thousand_concurrent_clients_echo_1mib_each(self):
        with uring_server("echo=tcp:127.0.0.1:0", "-q", "--backlog", "2048") as srv:
            done, bad, unfinished = many_clients_echo(srv.addr("echo"), 1000, MiB, 120)
            self.assertEqual((done, bad, unfinished), (1000, 0, 0))
            self.assertIsNone(srv.proc.poll())

    def test_several_rings(self):
        with uring_server("echo=tcp:127.0.0.1:0", "-q", "--workers", "4") as srv:
            done, bad, unfinished = many_clients_echo(srv.addr("echo"), 200, 256 * 1024, 60)
            self.assertEqual((done, bad, unfinished), (200, 0, 0))
            self.assertEqual(srv.stop(), 0)

    def test_peer_that_never_reads_does_not_grow_the_server(self):
        with uring_server("echo=tcp:127.0.0.1:0", "-q") as srv:
            addr = srv.addr("echo")
            # Warm up: one big echo, so buffers and caches are in place.
            self.assertEqual(many_clients_echo(addr, 1, 16 * MiB, 60), (1, 0, 0))
            base = vm_rss_kib(srv.proc.pid)
            peak = base
            hog = socket.create_connection(addr, timeout=30)
            hog.setblocking(False)
            block = b"z" * MiB
            sent, stalled_since = 0, None
            deadline = time.monotonic() + 30
            while sent < 100 * MiB and time.monotonic() < deadline:
                try:
                    sent += hog.send(block)
                    stalled_since = None
                except BlockingIOError:
                    # The server stopped reading: wait a little, give up
                    # after 2 s without progress.
                    now = time.monotonic()
                    stalled_since = stalled_since or now
                    if now - stalled_since > 2:
                        break
                    time.sleep(0.02)
                peak = max(peak, vm_rss_kib(srv.proc.pid))
            peak = max(peak, vm_rss_kib(srv.proc.pid))
            self.assertLess(peak - base, 64 * 1024, "server RSS grew %d KiB" % (peak - base))
            # The others are still served meanwhile.
            self.assertEqual(seed_tcp_client(addr), b"hello world")
            hog.close()
            self.assertEqual(srv.stop(), 0)


class UringLifecycle(unittest.TestCase):
    def test_sigterm_lets_20_live_connections_finish(self):
        srv = uring_server("echo=tcp:127.0.0.1:0", "--grace", "20")
        with srv:
            addr = srv.addr("echo")
            live = [socket.create_connection(addr, timeout=10) for _ in range(20)]
            for i, sk in enumerate(live):
                self.assertEqual(round_trip(sk, b"before %d" % i), b"before %d" % i)
            srv.signal(signal.SIGTERM)
            time.sleep(0.3)
            for i, sk in enumerate(live):  # still served during the grace period
                self.assertEqual(round_trip(sk, b"during %d" % i), b"during %d" % i)
            refused = False
            try:
                socket.create_connection(addr, timeout=2).close()
            except OSError:
                refused = True
            self.assertTrue(refused, "still accepting after SIGTERM")
            started = time.monotonic()
            for sk in live:
                sk.close()
            self.assertEqual(srv.wait(timeout=15), 0)
            self.assertLess(time.monotonic() - started, 10, "waited for the whole grace period")
            self.assertNotIn("after the grace period", srv.stderr_text())

    def test_grace_period_expires_and_counts_the_rest(self):
        srv = uring_server("echo=tcp:127.0.0.1:0", "--grace", "0.5")
        with srv:
            live = [socket.create_connection(srv.addr("echo"), timeout=10) for _ in range(5)]
            for sk in live:
                self.assertEqual(round_trip(sk, b"hi"), b"hi")
            srv.signal(signal.SIGTERM)
            self.assertEqual(srv.wait(timeout=15), 0)
            for sk in live:
                self.assertTrue(closed_by_server(sk, 5))
                sk.close()
            self.assertIn("closed 5 connections after the grace period", srv.stderr_text())
            self.assertEqual(srv.stderr_text().count("(closed at shutdown)"), 5)

    def test_idle_timeout_closes_a_silent_client(self):
        with uring_server("echo=tcp:127.0.0.1:0", "--idle-timeout", "1") as srv:
            addr = srv.addr("echo")
            silent = socket.create_connection(addr, timeout=10)
            talker = socket.create_connection(addr, timeout=10)
            started = time.monotonic()
            # The talker keeps its connection busy past the timeout.
            for i in range(6):
                self.assertEqual(round_trip(talker, b"%d" % i), b"%d" % i)
                time.sleep(0.3)
            self.assertTrue(closed_by_server(silent, 5 - (time.monotonic() - started)))
            self.assertLess(time.monotonic() - started, 5)
            self.assertEqual(round_trip(talker, b"still here"), b"still here")
            silent.close()
            talker.close()
            self.assertIn("(idle timeout)", srv.stderr_text())

    def test_max_conns_refuses_the_eleventh(self):
        with uring_server("echo=tcp:127.0.0.1:0", "--max-conns", "10") as srv:
            addr = srv.addr("echo")
            ten = [socket.create_connection(addr, timeout=10) for _ in range(10)]
            for sk in ten:
                self.assertEqual(round_trip(sk, b"in"), b"in")
            eleventh = socket.create_connection(addr, timeout=10)
            self.assertTrue(closed_by_server(eleventh, 5))
            eleventh.close()
            # A slot frees up: a new client is served again (bounded retries).
            ten.pop().close()
            served = False
            for _ in range(50):
                try:
                    with socket.create_connection(addr, timeout=5) as sk:
                        sk.settimeout(2)
                        if round_trip(sk, b"again") == b"again":
                            served = True
                            break
                except OSError:
                    pass
                time.sleep(0.1)
            self.assertTrue(served)
            for sk in ten:
                sk.close()
            self.assertRegex(srv.stderr_text(), r"refuse echo tcp:127\.0\.0\.1:\d+ from .*--max-conns 10")

    def test_help_lists_uring(self):
        self.assertIn(b"uring", run_sk("serve", "--help").stdout)


def vm_hwm_kib(pid):
    return vm_kib(pid, "VmHWM")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class UringSendfile(unittest.TestCase):
    """Downloads from `sk serve file=... --model uring`: the file service
    sends file contents with sk_conn_sendfile, between control messages."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="sk-uring-file-")
        self.root = os.path.join(self.tmp.name, "root")
        os.mkdir(self.root)

    def tearDown(self):
        self.tmp.cleanup()

    def put_file(self, name, size):
        data = os.urandom(size)
        with open(os.path.join(self.root, name), "wb") as f:
            f.write(data)
        return data

    def serve(self):
        return uring_server("file=tcp:127.0.0.1:0", "--file-root", self.root, "-q", expect=1)

    def download(self, addr, name, data):
        with FileClient(addr) as c:
            answer, got, end = c.get(name)
            self.assertEqual(answer.get("op"), "file", answer)
            self.assertEqual(len(got), len(data))
            self.assertTrue(got == data, "%s differs" % name)
            self.assertEqual(end, {"op": "end", "digest": sha256_hex(data)})
            # the session goes on after the file: a control message answers
            self.assertEqual(c.request({"op": "list", "name": ""}).get("op"), "list")

    def test_large_download_is_byte_identical_without_loading_the_file(self):
        data = self.put_file("big.bin", 48 * MiB)
        with self.serve() as srv:
            base = vm_rss_kib(srv.proc.pid)
            self.download(srv.addr("file"), "big.bin", data)
            grown = vm_hwm_kib(srv.proc.pid) - base
            self.assertLess(grown, 24 * 1024, "server peak RSS grew %d KiB" % grown)
            self.assertEqual(srv.stop(), 0)

    def test_several_downloads_at_once(self):
        files = {"f%d.bin" % i: self.put_file("f%d.bin" % i, 3 * MiB + 1000 * i) for i in range(6)}
        errors = []
        with self.serve() as srv:
            addr = srv.addr("file")

            def one(name):
                try:
                    self.download(addr, name, files[name])
                except Exception as e:  # reported by the main thread
                    errors.append("%s: %r" % (name, e))
            threads = [threading.Thread(target=one, args=(n,)) for n in files]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            self.assertFalse(any(t.is_alive() for t in threads))
            self.assertEqual(errors, [])
            self.assertEqual(srv.stop(), 0)

    def test_reader_that_pauses_holds_back_only_itself(self):
        data = self.put_file("big.bin", 48 * MiB)
        small = self.put_file("small.bin", 1000)
        with self.serve() as srv:
            addr = srv.addr("file")
            base = vm_rss_kib(srv.proc.pid)
            with FileClient(addr) as slow:
                slow.send({"op": "get", "name": "big.bin", "have": 0, "digests": []})
                # not reading: the server stops at its queue limit
                time.sleep(1)
                peak = vm_rss_kib(srv.proc.pid)
                self.download(addr, "small.bin", small)
                answer = slow.recv()
                self.assertEqual(answer.get("op"), "file", answer)
                body = slow.recv_exact(answer["size"])
                self.assertTrue(body == data, "big.bin differs")
                self.assertEqual(slow.recv(), {"op": "end", "digest": sha256_hex(data)})
            self.assertLess(peak - base, 16 * 1024, "server RSS grew %d KiB" % (peak - base))
            self.assertEqual(srv.stop(), 0)

    def test_peer_leaving_mid_download_releases_the_file(self):
        self.put_file("big.bin", 48 * MiB)
        with self.serve() as srv:
            pid = srv.proc.pid
            fds = open_fds(pid)
            for _ in range(3):
                with FileClient(srv.addr("file")) as c:
                    c.send({"op": "get", "name": "big.bin", "have": 0, "digests": []})
                    self.assertEqual(c.recv().get("op"), "file")
                    self.assertEqual(len(c.recv_exact(MiB)), MiB)
            # the server closes each connection and the file it was sending
            self.assertTrue(skharness.wait_for(lambda: open_fds(pid) == fds, timeout=10),
                            "%d fds open, %d before" % (open_fds(pid), fds))
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()
