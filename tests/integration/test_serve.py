"""`sk serve` with real peers: Python clients written the way the seeds
write them, ncat and socat. Loopback and ephemeral ports only."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from skharness import (Server, echo_through, read_line, recv_until_eof, refused, run_sk,
                       seed_tcp_client, wait_for)

MODEL = os.environ.get("SK_TEST_MODEL", "thread")


def seed_udp_client(addr, payload=b"hello world"):
    sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sk.settimeout(10)
    sk.sendto(payload, addr)
    data, server = sk.recvfrom(65535)
    sk.close()
    return data, server


class ServeTCPUDPUnix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sk-serve-")
        cls.upath = os.path.join(cls.tmp, "upper.sock")
        cls.srv = Server("echo=127.0.0.1:0", "upper=127.0.0.1:0", "upper=unix:" + cls.upath,
                         "echo=unix:@sk-test-echo-%d" % os.getpid(), "--model", MODEL, expect=6)

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_upper_tcp_seed_client(self):
        self.assertEqual(seed_tcp_client(self.srv.addr("upper")), b"HELLO WORLD")

    def test_echo_tcp_seed_client(self):
        self.assertEqual(seed_tcp_client(self.srv.addr("echo")), b"hello world")

    def test_plain_endpoint_serves_tcp_and_udp_on_one_port(self):
        self.assertEqual(self.srv.addr("echo", "tcp"), self.srv.addr("echo", "udp"))

    def test_upper_leaves_non_ascii_alone(self):
        payload = "grüße, 世界! abc\x00\xff".encode("utf-8") + bytes(range(256))
        self.assertEqual(seed_tcp_client(self.srv.addr("upper"), payload), payload.upper())

    def test_udp_echo_and_upper(self):
        data, server = seed_udp_client(self.srv.addr("echo", "udp"))
        self.assertEqual(data, b"hello world")
        self.assertEqual(server, self.srv.addr("echo", "udp"))
        data, _ = seed_udp_client(self.srv.addr("upper", "udp"))
        self.assertEqual(data, b"HELLO WORLD")

    def test_udp_one_reply_per_datagram_many_senders(self):
        addr = self.srv.addr("upper", "udp")
        senders = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(20)]
        try:
            for round_ in range(5):
                for i, s in enumerate(senders):
                    s.sendto(b"sender %d round %d" % (i, round_), addr)
            for i, s in enumerate(senders):
                s.settimeout(10)
                got = sorted(s.recvfrom(1024)[0] for _ in range(5))
                self.assertEqual(got, sorted(b"SENDER %d ROUND %d" % (i, r) for r in range(5)))
        finally:
            for s in senders:
                s.close()

    def test_udp_empty_datagram_gets_empty_reply(self):
        data, _ = seed_udp_client(self.srv.addr("echo", "udp"), b"")
        self.assertEqual(data, b"")

    def test_unix_stream_upper(self):
        self.assertEqual(seed_tcp_client(self.upath, family=socket.AF_UNIX), b"HELLO WORLD")

    def test_unix_abstract_echo(self):
        addr = self.srv.addr("echo", "unix")
        self.assertTrue(addr.startswith("\0"))
        self.assertEqual(seed_tcp_client(addr, family=socket.AF_UNIX), b"hello world")

    def test_sticky_packets_stream_is_bytes(self):
        # Three quick sends may merge; echo returns the same byte stream.
        sk = socket.create_connection(self.srv.addr("echo"), timeout=10)
        for i in range(3):
            sk.send(b"msg%d" % i)
        sk.shutdown(socket.SHUT_WR)
        data = recv_until_eof(sk)
        sk.close()
        self.assertEqual(data, b"msg0msg1msg2")

    def test_large_echo_is_byte_identical(self):
        payload = os.urandom(8 * 1024 * 1024)
        self.assertEqual(echo_through(self.srv.addr("echo"), payload), payload)

    def test_ncat_client(self):
        if not shutil.which("ncat"):
            self.skipTest("ncat not installed")
        host, port = self.srv.addr("upper")
        out = subprocess.run(["ncat", host, str(port)], input=b"hello from ncat\n",
                             capture_output=True, timeout=20)
        self.assertEqual(out.stdout, b"HELLO FROM NCAT\n")
        # ncat -u may quit at stdin EOF before the reply: keep stdin open
        # until the reply line has been read.
        nc = subprocess.Popen(["ncat", "-u", host, str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            nc.stdin.write(b"udp ncat\n")
            nc.stdin.flush()
            self.assertEqual(read_line(nc.stdout, time.monotonic() + 10), "UDP NCAT")
        finally:
            nc.kill()
            nc.wait(timeout=5)
            nc.stdin.close()
            nc.stdout.close()

    def test_socat_client(self):
        if not shutil.which("socat"):
            self.skipTest("socat not installed")
        host, port = self.srv.addr("upper")
        out = subprocess.run(["socat", "-t", "5", "-", "TCP:%s:%d" % (host, port)],
                             input=b"hello from socat\n", capture_output=True, timeout=20)
        self.assertEqual(out.stdout, b"HELLO FROM SOCAT\n")
        out = subprocess.run(["socat", "-t", "5", "-", "UNIX-CONNECT:" + self.upath],
                             input=b"unix socat\n", capture_output=True, timeout=20)
        self.assertEqual(out.stdout, b"UNIX SOCAT\n")

    def test_peer_vanishing_does_not_hurt_others(self):
        # A client that resets mid-stream; the server keeps serving others.
        sk = socket.create_connection(self.srv.addr("echo"), timeout=10)
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sk.send(b"x" * 100000)
        sk.close()  # RST
        self.assertEqual(seed_tcp_client(self.srv.addr("upper")), b"HELLO WORLD")

    def test_log_has_open_and_close_lines(self):
        seed_tcp_client(self.srv.addr("echo"), b"0123456789")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "10 bytes in, 10 bytes out" in self.srv.log():
                break
            time.sleep(0.05)
        log = self.srv.log()
        self.assertRegex(log, r"open echo tcp:127\.0\.0\.1:\d+ from 127\.0\.0\.1:\d+")
        self.assertRegex(log, r"close echo tcp:127\.0\.0\.1:\d+ from 127\.0\.0\.1:\d+: "
                              r"10 bytes in, 10 bytes out, \d+\.\d{3} s")


class ServeIPv6(unittest.TestCase):
    def test_ipv6_loopback(self):
        try:
            probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback")
        with Server("upper=[::1]:0", "--model", MODEL, expect=2) as srv:
            host, port = srv.addr("upper")
            self.assertEqual(host, "::1")
            self.assertEqual(seed_tcp_client((host, port), family=socket.AF_INET6), b"HELLO WORLD")


class ServeConcurrency(unittest.TestCase):
    def test_50_concurrent_clients_thread_model(self):
        with Server("upper=tcp:127.0.0.1:0", "--model", "thread") as srv:
            addr = srv.addr("upper")
            # All 50 connect and stay connected before any sends: only a
            # concurrent server can answer them all.
            socks = [socket.create_connection(addr, timeout=10) for _ in range(50)]
            try:
                for i, s in enumerate(socks):
                    s.send(b"client %d" % i)
                for i, s in enumerate(socks):
                    want = b"CLIENT %d" % i
                    got = b""
                    while len(got) < len(want):
                        chunk = s.recv(1024)
                        self.assertTrue(chunk)
                        got += chunk
                    self.assertEqual(got, want)
            finally:
                for s in socks:
                    s.close()

    def test_iterative_serves_one_client_at_a_time(self):
        with Server("upper=tcp:127.0.0.1:0", "--model", "iterative") as srv:
            addr = srv.addr("upper")
            first = socket.create_connection(addr, timeout=10)
            first.send(b"first")
            self.assertEqual(first.recv(1024), b"FIRST")
            second = socket.create_connection(addr, timeout=10)  # queued in the backlog
            second.send(b"second")
            second.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                second.recv(1024)  # not served while the first is connected
            first.close()
            second.settimeout(10)
            self.assertEqual(second.recv(1024), b"SECOND")
            second.close()


class ServeErrors(unittest.TestCase):
    def test_unknown_service(self):
        r = run_sk("serve", "nosuch=127.0.0.1:0")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unknown service 'nosuch'", r.stderr)

    def test_bad_endpoint(self):
        r = run_sk("serve", "echo=localhost")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b'missing port in "localhost"', r.stderr)
        r = run_sk("serve", "echo=127.0.0.1:70000")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"port 70000 out of range", r.stderr)

    def test_unknown_model(self):
        r = run_sk("serve", "echo=127.0.0.1:0", "--model", "nosuch")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unknown model", r.stderr)

    def test_port_in_use_names_the_endpoint(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            r = run_sk("serve", "echo=tcp:127.0.0.1:%d" % port)
            self.assertEqual(r.returncode, 2)
            self.assertIn(b"127.0.0.1:%d" % port, r.stderr)
            self.assertIn(b"Address already in use", r.stderr)
        finally:
            busy.close()

    def test_help(self):
        r = run_sk("serve", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"usage: sk serve", r.stdout)


class ServeShutdown(unittest.TestCase):
    def test_sigterm_lets_open_connection_finish(self):
        srv = Server("echo=tcp:127.0.0.1:0", "--model", MODEL, "--grace", "10")
        try:
            addr = srv.addr("echo")
            live = socket.create_connection(addr, timeout=10)
            live.send(b"before")
            self.assertEqual(live.recv(1024), b"before")
            srv.signal(signal.SIGTERM)
            # The listener closes at once: new connections are refused.
            self.assertTrue(wait_for(lambda: refused(addr)),
                            "listener still accepting after SIGTERM")
            # The open connection still works during the grace period.
            live.send(b"during grace")
            self.assertEqual(live.recv(1024), b"during grace")
            self.assertIsNone(srv.proc.poll())
            live.close()
            self.assertEqual(srv.wait(15), 0)
        finally:
            srv.__exit__()

    def test_grace_period_expires(self):
        srv = Server("echo=tcp:127.0.0.1:0", "--model", MODEL, "--grace", "0.3")
        try:
            live = socket.create_connection(srv.addr("echo"), timeout=10)
            live.send(b"x")
            self.assertEqual(live.recv(1024), b"x")
            srv.signal(signal.SIGINT)
            self.assertEqual(srv.wait(15), 0)
            self.assertEqual(live.recv(1024), b"")  # closed by the server
            live.close()
            self.assertIn("after the grace period", srv.stderr_text())
        finally:
            srv.__exit__()

    def test_unix_socket_file_removed_on_exit(self):
        tmp = tempfile.mkdtemp(prefix="sk-unix-")
        path = os.path.join(tmp, "echo.sock")
        try:
            with Server("echo=unix:" + path) as srv:
                self.assertTrue(os.path.exists(path))
                self.assertEqual(srv.stop(), 0)
            self.assertFalse(os.path.exists(path))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
