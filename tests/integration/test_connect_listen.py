"""sk connect / sk listen (the netcat commands) against real peers:
python3 sockets, each other, and ncat. Loopback only, ephemeral ports."""
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from skharness import recv_until_eof

SK = os.environ.get("SK_BIN")
WAIT = 30          # seconds any single step may take
BIG = 100 << 20    # bytes moved by the bulk tests


def setUpModule():
    if not SK or not os.access(SK, os.X_OK):
        raise unittest.SkipTest("SK_BIN does not name the sk binary")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class StderrLines:
    """Collects a process's stderr lines in a thread; wait_for() is bounded."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in stream:
            with self.cond:
                self.lines.append(raw.decode(errors="replace"))
                self.cond.notify_all()
        stream.close()

    def wait_for(self, pattern, timeout=WAIT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = re.search(pattern, "".join(self.lines))
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %r on stderr in %s s: %r"
                                         % (pattern, timeout, self.lines))
                self.cond.wait(left)

    def text(self):
        self.thread.join(WAIT)
        with self.cond:
            return "".join(self.lines)


class Base(unittest.TestCase):
    def setUp(self):
        self.procs = []
        self.socks = []
        self.threads = []
        self.tmp = tempfile.mkdtemp(prefix="sk-nc-")

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                pass
            for stream in (p.stdin, p.stdout):
                if stream:
                    stream.close()
        for s in self.socks:
            s.close()
        for t in self.threads:
            t.join(WAIT)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers -----------------------------------------------------------

    def path(self, name):
        return os.path.join(self.tmp, name)

    def spawn(self, args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE):
        p = subprocess.Popen(args, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
        self.procs.append(p)
        p.err = StderrLines(p.stderr)
        return p

    def sk(self, *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE):
        return self.spawn([SK] + list(args), stdin=stdin, stdout=stdout)

    def run_sk(self, *args, data=b"", timeout=WAIT):
        """Run sk to completion with data on stdin: (status, stdout, stderr)."""
        p = subprocess.run([SK] + list(args), input=data, capture_output=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")

    def listen(self, *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE):
        """Start `sk listen -v ...`; returns (process, address it listens on)."""
        p = self.sk("listen", "-v", *args, stdin=stdin, stdout=stdout)
        m = p.err.wait_for(r"sk: listening on (\S+)")
        return p, m.group(1)

    def wait(self, p, timeout=WAIT):
        return p.wait(timeout=timeout)

    def finish(self, p, timeout=WAIT):
        """Wait for p to exit and read its stdout: (status, stdout bytes)."""
        out = []
        reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
        reader.start()
        status = p.wait(timeout=timeout)
        reader.join(timeout)
        return status, (out[0] if out else b"")

    def thread(self, target, *args):
        t = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(t)
        t.start()
        return t

    def server_socket(self, family=socket.AF_INET, kind=socket.SOCK_STREAM, addr=None):
        s = socket.socket(family, kind)
        self.socks.append(s)
        s.settimeout(WAIT)
        s.bind(addr if addr is not None else ("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            s.listen(1)
        return s

    def upper_server(self, family=socket.AF_INET, addr=None):
        """The seed's server: accept, recv(1024), send it back upper-cased."""
        srv = self.server_socket(family, addr=addr)

        def serve():
            conn, _ = srv.accept()
            with conn:
                data = conn.recv(1024)
                conn.send(data.upper())

        self.thread(serve)
        return srv.getsockname()

    def big_file(self):
        path = self.path("big.bin")
        with open(path, "wb") as f:
            f.write(random.Random(7007).randbytes(BIG))
        return path

    def read_until(self, path, expected, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(path, "rb") as f:
                data = f.read()
            if data == expected:
                return data
            time.sleep(0.05)
        return data


class ConnectTest(Base):
    def test_tcp_half_close_then_reply(self):
        host, port = self.upper_server()
        status, out, err = self.run_sk("connect", "%s:%d" % (host, port), data=b"hello world")
        self.assertEqual((status, out), (0, b"HELLO WORLD"), err)

    def test_stdin_dev_null(self):
        host, port = self.upper_server()
        p = self.sk("connect", "%s:%d" % (host, port), stdin=subprocess.DEVNULL)
        self.assertEqual(self.finish(p), (0, b""), p.err.text())

    def test_verbose_summary(self):
        host, port = self.upper_server()
        status, out, err = self.run_sk("connect", "-v", "tcp:%s:%d" % (host, port),
                                       data=b"hello world\n")
        self.assertEqual((status, out), (0, b"HELLO WORLD\n"), err)
        self.assertIn("sk: connected to 127.0.0.1:%d" % port, err)
        self.assertRegex(err, r"sk: 12 bytes sent, 12 bytes received in \d+\.\d{3} s\n")

    def test_udp_echo(self):
        srv = self.server_socket(kind=socket.SOCK_DGRAM)

        def echo():
            for _ in range(2):
                data, peer = srv.recvfrom(65536)
                srv.sendto(data.upper(), peer)

        self.thread(echo)
        port = srv.getsockname()[1]
        for args in (["-u", "127.0.0.1:%d" % port], ["udp:127.0.0.1:%d" % port]):
            # -w 0.5: after stdin EOF, receive until 0.5 s pass quietly, then exit 0.
            status, out, err = self.run_sk("connect", "-w", "0.5", *args, data=b"ping\n")
            self.assertEqual((status, out), (0, b"PING\n"), err)

    def test_unix_stream(self):
        path = self.path("upper.sock")
        self.upper_server(socket.AF_UNIX, path)
        status, out, err = self.run_sk("connect", "unix:" + path, data=b"over unix")
        self.assertEqual((status, out), (0, b"OVER UNIX"), err)

    def test_bad_endpoint(self):
        status, out, err = self.run_sk("connect", "localhost")
        self.assertEqual(status, 2)
        self.assertIn('sk: connect: missing port in "localhost"', err)
        status, _, err = self.run_sk("listen", "tcp:127.0.0.1:70000")
        self.assertEqual(status, 2)
        self.assertIn("sk: listen: ", err)

    def test_usage_errors(self):
        for args in (["connect"], ["connect", "-w", "0", "127.0.0.1:1"],
                     ["connect", "--no-such-option", "127.0.0.1:1"],
                     ["listen", "-k", "-u", "127.0.0.1:0"]):
            status, _, err = self.run_sk(*args)
            self.assertEqual(status, 2, args)
            self.assertTrue(err.startswith("sk: "), err)

    def test_help(self):
        for cmd in ("connect", "listen"):
            status, out, _ = self.run_sk(cmd, "--help")
            self.assertEqual(status, 0)
            self.assertIn(b"usage: sk " + cmd.encode(), out)
            self.assertIn(b"UDP", out)

    def test_connection_refused(self):
        # A bound socket that does not listen refuses connections.
        s = socket.socket()
        self.socks.append(s)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        status, _, err = self.run_sk("connect", "127.0.0.1:%d" % port)
        self.assertEqual(status, 1)
        self.assertIn("sk: connect: 127.0.0.1:%d: Connection refused" % port, err)

    def test_idle_timeout(self):
        srv = self.server_socket()
        accepted = []
        self.thread(lambda: accepted.append(srv.accept()[0]))
        start = time.monotonic()
        p = self.sk("connect", "-w", "1", "127.0.0.1:%d" % srv.getsockname()[1],
                    stdin=subprocess.PIPE)  # stdin stays open
        status = self.wait(p, timeout=10)
        elapsed = time.monotonic() - start
        self.threads[-1].join(WAIT)
        for conn in accepted:
            conn.close()
        self.assertEqual(status, 1)
        self.assertLess(elapsed, 10)
        self.assertIn("sk: idle timeout", p.err.text())


class ListenTest(Base):
    def test_bulk_connect_to_listen(self):
        # The listener's stdin is empty (/dev/null): it half-closes at once,
        # and the sender must still send its whole file.
        src = self.big_file()
        dst = self.path("received.bin")
        with open(dst, "wb") as out:
            lp, addr = self.listen("127.0.0.1:0", stdin=subprocess.DEVNULL, stdout=out)
        with open(src, "rb") as data:
            cp = self.sk("connect", "-v", addr, stdin=data, stdout=subprocess.DEVNULL)
        self.assertEqual(self.wait(cp, 120), 0, cp.err.text())
        self.assertEqual(self.wait(lp, 120), 0, lp.err.text())
        self.assertEqual(sha256_file(dst), sha256_file(src))
        self.assertIn("sk: %d bytes sent, 0 bytes received" % BIG, cp.err.text())
        self.assertIn("sk: 0 bytes sent, %d bytes received" % BIG, lp.err.text())

    def test_bulk_listen_to_connect(self):
        src = self.big_file()
        dst = self.path("received.bin")
        with open(src, "rb") as data:
            lp, addr = self.listen("127.0.0.1:0", stdin=data, stdout=subprocess.DEVNULL)
        self.assertRegex(addr, r"^127\.0\.0\.1:[1-9]\d*$")
        with open(dst, "wb") as out:
            cp = self.sk("connect", addr, stdin=subprocess.DEVNULL, stdout=out)
        self.assertEqual(self.wait(cp, 120), 0, cp.err.text())
        self.assertEqual(self.wait(lp, 120), 0, lp.err.text())
        self.assertEqual(sha256_file(dst), sha256_file(src))

    def test_keep_open_serves_clients_in_turn(self):
        dst = self.path("received.txt")
        with open(dst, "wb") as out:
            lp, addr = self.listen("-k", "127.0.0.1:0", stdin=subprocess.PIPE, stdout=out)
        host, port = addr.rsplit(":", 1)
        if shutil.which("ncat"):
            first = subprocess.run(["ncat", "--send-only", host, port], input=b"first\n",
                                   capture_output=True, timeout=WAIT)
        else:
            first = subprocess.run([SK, "connect", addr], input=b"first\n",
                                   capture_output=True, timeout=WAIT)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(self.read_until(dst, b"first\n"), b"first\n")
        status, out, err = self.run_sk("connect", addr, data=b"second\n")
        self.assertEqual((status, out), (0, b""), err)
        self.assertEqual(self.read_until(dst, b"first\nsecond\n"), b"first\nsecond\n")
        lp.err.wait_for(r"(?s)connection from.*connection from")
        self.assertIsNone(lp.poll(), "sk listen -k must keep listening")

    def test_udp(self):
        reply = self.path("reply.txt")
        with open(reply, "wb") as f:
            f.write(b"pong\n")
        with open(reply, "rb") as data:
            lp, addr = self.listen("-u", "-w", "0.5", "127.0.0.1:0", stdin=data)
        host, port = addr.rsplit(":", 1)
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socks.append(c)
        c.settimeout(WAIT)
        c.sendto(b"ping\n", (host, int(port)))
        self.assertEqual(c.recvfrom(65536)[0], b"pong\n")
        self.assertEqual(self.finish(lp), (0, b"ping\n"), lp.err.text())
        self.assertIn("sk: connection from 127.0.0.1:%d" % c.getsockname()[1], lp.err.text())

    def test_unix_stream_and_socket_file_removed(self):
        path = self.path("listen.sock")
        reply = self.path("reply.txt")
        with open(reply, "wb") as f:
            f.write(b"from listen\n")
        with open(reply, "rb") as data:
            lp, addr = self.listen("unix:" + path, stdin=data)
        self.assertEqual(addr, "unix:" + path)
        c = socket.socket(socket.AF_UNIX)
        self.socks.append(c)
        c.settimeout(WAIT)
        c.connect(path)
        # Read first: when the client closes, sk listen ends (even with stdin left).
        got = recv_until_eof(c)
        self.assertEqual(got, b"from listen\n")
        c.sendall(b"from client\n")
        c.shutdown(socket.SHUT_WR)
        self.assertEqual(self.finish(lp), (0, b"from client\n"), lp.err.text())
        self.assertFalse(os.path.exists(path))

    def test_unix_socket_file_removed_on_sigterm(self):
        path = self.path("term.sock")
        lp, _ = self.listen("unix:" + path)
        self.assertTrue(os.path.exists(path))
        lp.send_signal(signal.SIGTERM)
        self.assertEqual(self.wait(lp), -signal.SIGTERM)
        self.assertFalse(os.path.exists(path))

    def test_listen_closed_after_one_client(self):
        lp, addr = self.listen("127.0.0.1:0", stdin=subprocess.PIPE)
        status, _, err = self.run_sk("connect", addr, data=b"x")
        self.assertEqual(status, 0, err)
        self.assertEqual(self.wait(lp), 0, lp.err.text())
        status, _, err = self.run_sk("connect", addr)
        self.assertEqual(status, 1)
        self.assertIn("Connection refused", err)


if __name__ == "__main__":
    unittest.main()
