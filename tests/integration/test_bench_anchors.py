"""The benchmark anchors (bench/anchors/) build and echo, so bench/models.sh
keeps comparing against working servers; the floors of bench/http.sh and
bench/chat.sh answer as those scripts expect; and models.sh itself runs.
Loopback and ephemeral ports only; anchors whose library headers are
missing (libuv1-dev, libevent-dev) are skipped."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from skharness import SK_BIN, echo_through, read_line, seed_tcp_client, stop_process

SOURCE_DIR = os.environ.get("SK_SOURCE_DIR",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BENCH_DIR = os.path.join(SOURCE_DIR, "bench")
ANCHOR_DIR = os.path.join(BENCH_DIR, "anchors")
LISTEN_RE = re.compile(r"^(?:echo|http|chat) listening on tcp:127\.0\.0\.1:(\d+)$")
HEADERS = {"uv_echo": "uv.h", "event_echo": "event2/event.h", "epoll_echo": None,
           "http_floor": None, "chat_floor": None}


def have_header(header):
    probe = subprocess.run(["gcc", "-E", "-x", "c", "-"], input=b"#include <%s>\n" % header.encode(),
                           capture_output=True, timeout=60)
    return probe.returncode == 0


class Anchor:
    """A running anchor server: argv, its port, stopped on exit."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        line = read_line(self.proc.stdout, time.monotonic() + 15)
        m = LISTEN_RE.match(line or "")
        if not m:
            self.__exit__()
            raise AssertionError("%s printed %r, stderr %r" % (argv, line, self.proc.stderr.read()))
        self.addr = ("127.0.0.1", int(m.group(1)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop_process(self.proc, timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


class BenchAnchors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="sk-anchors-")
        cls.build = subprocess.run(["sh", os.path.join(ANCHOR_DIR, "build.sh"), cls.out],
                                   capture_output=True, timeout=300)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def c_anchor(self, name):
        """argv for a C anchor, or skip when its library headers are missing."""
        path = os.path.join(self.out, name)
        if not os.path.exists(path):
            header = HEADERS[name]
            if header and not have_header(header):
                self.skipTest("<%s> not installed" % header)
            self.fail("%s did not build: %s" % (name, self.build.stderr.decode(errors="replace")))
        return [path]

    def check_echo(self, argv):
        with Anchor(argv) as anchor:
            self.assertEqual(seed_tcp_client(anchor.addr), b"hello world")
            # A second client while the first connection is gone: still serving.
            self.assertEqual(seed_tcp_client(anchor.addr, b"again"), b"again")
            self.check_large_echo(anchor.addr)

    def check_large_echo(self, addr):
        payload = os.urandom(2 * 1024 * 1024)
        self.assertEqual(echo_through(addr, payload), payload)

    def test_libuv_anchor_echoes(self):
        self.check_echo(self.c_anchor("uv_echo"))

    def test_libevent_anchor_echoes(self):
        self.check_echo(self.c_anchor("event_echo"))

    def test_raw_epoll_anchor_echoes(self):
        self.check_echo(self.c_anchor("epoll_echo"))

    def test_raw_epoll_anchor_survives_a_slow_reader(self):
        # A reader slower than the writer forces short writes: the floor
        # keeps the rest and still returns every byte, in order.
        with Anchor(self.c_anchor("epoll_echo")) as anchor:
            sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sk.settimeout(30)
            sk.connect(anchor.addr)
            payload = os.urandom(8 * 1024 * 1024)
            received = bytearray()

            def reader():
                while len(received) < len(payload):
                    time.sleep(0.0002)
                    chunk = sk.recv(1 << 14)
                    if not chunk:
                        return
                    received.extend(chunk)

            t = threading.Thread(target=reader)
            t.start()
            sk.sendall(payload)
            t.join(timeout=60)
            sk.close()
            self.assertEqual(bytes(received), payload)
            self.assertEqual(seed_tcp_client(anchor.addr), b"hello world")

    def test_http_floor_answers_pipelined_gets_with_the_file(self):
        body = os.urandom(1024)
        path = os.path.join(self.out, "1k.bin")
        with open(path, "wb") as f:
            f.write(body)
        with Anchor(self.c_anchor("http_floor") + [path]) as anchor:
            with socket.create_connection(anchor.addr, timeout=10) as sk:
                # two requests in one segment, a third split inside its "\r\n\r\n"
                sk.sendall(b"GET /1k.bin HTTP/1.1\r\nHost: a\r\n\r\n" * 2 + b"GET / HTTP/1.1\r\n\r")
                time.sleep(0.05)
                sk.sendall(b"\n")
                data = b""
                while data.count(body) < 3:
                    chunk = sk.recv(65536)
                    self.assertTrue(chunk, "connection closed after %d bytes" % len(data))
                    data += chunk
            heads = [part for part in data.split(body) if part]
            self.assertEqual(len(heads), 3)
            for head in heads:
                self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"), head)
                self.assertIn(b"\r\nContent-Length: 1024\r\n", head)

    def test_http_floor_refuses_a_missing_file(self):
        out = subprocess.run(self.c_anchor("http_floor") + [os.path.join(self.out, "nosuch")],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"usage: http_floor FILE", out.stderr)

    def test_chat_floor_greets_and_delivers_every_line_to_everyone(self):
        with Anchor(self.c_anchor("chat_floor")) as anchor:
            clients = [socket.create_connection(anchor.addr, timeout=10) for _ in range(3)]
            try:
                files = [c.makefile("rb") for c in clients]
                for f in files:
                    self.assertTrue(f.readline().endswith(b"\n"))  # the greeting
                clients[0].sendall(b"skb:0:hello\nskb:1:")
                clients[1].sendall(b"world\n")  # a line from a second client, alone
                clients[0].sendall(b"there\n")  # the first client's split line, ended
                for f in files:
                    lines = sorted([f.readline(), f.readline(), f.readline()])
                    self.assertEqual(lines, [b"skb:0:hello\n", b"skb:1:there\n", b"world\n"])
                for f in files:
                    f.close()
            finally:
                for c in clients:
                    c.close()

    def test_asyncio_anchor_echoes(self):
        self.check_echo([sys.executable, os.path.join(ANCHOR_DIR, "asyncio_echo.py")])

    def test_socketserver_anchor_echoes(self):
        self.check_echo([sys.executable, os.path.join(ANCHOR_DIR, "socketserver_echo.py")])

    def test_anchors_take_a_port_argument(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        with Anchor([sys.executable, os.path.join(ANCHOR_DIR, "asyncio_echo.py"), str(port)]) as a:
            self.assertEqual(a.addr, ("127.0.0.1", port))
            self.assertEqual(seed_tcp_client(a.addr), b"hello world")


class ModelsScript(unittest.TestCase):
    """bench/models.sh end to end, tiny: a few servers, 4 connections, 1 s."""

    def test_models_sh_prints_the_table_and_writes_results(self):
        if subprocess.run([SK_BIN, "bench", "--help"], capture_output=True, timeout=30).returncode:
            self.skipTest("sk bench not built")
        build_dir = os.environ.get("SK_BUILD_DIR", os.path.dirname(os.path.abspath(SK_BIN)))
        results = tempfile.mkdtemp(prefix="sk-models-")
        try:
            subprocess.run(["sh", os.path.join(ANCHOR_DIR, "build.sh"),
                            os.path.join(build_dir, "bench-anchors")], capture_output=True, timeout=300)
            env = dict(os.environ, BUILD=build_dir, BENCH_NO_BUILD="1", BENCH_RESULTS=results,
                       BENCH_SERVERS="thread raw-epoll select", BENCH_CONNS="4",
                       BENCH_DURATION="1", BENCH_LOADGEN="%s bench" % SK_BIN)
            out = subprocess.run(["bash", os.path.join(BENCH_DIR, "models.sh")], env=env,
                                 capture_output=True, timeout=240)
            self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace"))
            table = out.stdout.decode()
            self.assertRegex(table, r"(?m)^server\s+conns\s+round trips/s\s+p99 µs\s+ratio to libuv"
                                    r"\s+ratio to raw-epoll")
            self.assertRegex(table, r"(?m)^raw-epoll\s+4\s+[\d,]+\s+[\d,]+\s+n/a\s+1\.00\b")
            self.assertRegex(table, r"(?m)^thread\s+4\s+[\d,]+\s+[\d,]+\s+n/a\s+\d+\.\d\d\b")
            with open(os.path.join(results, "models.md")) as md:
                self.assertIn("| raw-epoll | 4 |", md.read())
            with open(os.path.join(results, "models.dat")) as dat:
                rows = [l.split() for l in dat if not l.startswith("#")]
            self.assertEqual([r[0] for r in rows], ["thread", "raw-epoll", "select"])
            if shutil.which("gnuplot"):
                for ext in ("svg", "png"):
                    self.assertGreater(os.path.getsize(os.path.join(results, "models." + ext)), 1000)
            # select is not run past FD_SETSIZE; an unknown server is n/a too.
            env.update(BENCH_SERVERS="select nosuch", BENCH_CONNS="1000")
            out = subprocess.run(["bash", os.path.join(BENCH_DIR, "models.sh")], env=env,
                                 capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace"))
            self.assertRegex(out.stdout.decode(), r"(?m)^select\s+1,000\s+n/a\b.*FD_SETSIZE")
            self.assertRegex(out.stdout.decode(), r"(?m)^nosuch\s+1,000\s+n/a\b.*unknown server")
        finally:
            shutil.rmtree(results, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
