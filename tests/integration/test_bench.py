"""Integration tests for `sk bench`, the load generator: against `sk serve`
echo and upper (TCP and Unix), closed and open loop, pipelining, and
against faulty python servers (one corrupt byte, an early close), plus
connection refused and usage errors. No timing assertions beyond loose
bounds on the open-loop request count."""
import json
import os
import re
import resource
import socket
import tempfile
import threading
import unittest

from skharness import Server, bench_report, run_sk

JSON_KEYS = {"endpoint", "conns", "size", "pipeline", "rate", "duration_s", "round_trips",
             "round_trips_per_s", "mb_per_s", "latency_us", "errors", "mismatches",
             "client_cpu_s", "client_cpu_percent"}


def bench(*args, timeout=60):
    """Run `sk bench ARGS` (no warmup unless given) to completion."""
    extra = [] if "--warmup" in args else ["--warmup", "0"]
    return run_sk("bench", *args, *extra, timeout=timeout)


def bench_json(testcase, *args):
    """Run with --json; assert exit 0 and a well-formed report; return it."""
    report = bench_report(testcase, bench(*args, "--json"))
    testcase.assertEqual(set(report), JSON_KEYS)
    testcase.assertGreater(report["round_trips"], 0)
    testcase.assertEqual(report["mismatches"], 0)
    testcase.assertEqual(report["errors"], 0)
    return report


class PyServer:
    """A threaded TCP server on 127.0.0.1:0 running handler(conn) per
    connection; stopped (and its threads joined, bounded) on exit."""

    def __init__(self, handler):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(0.2)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn):
        with conn:
            try:
                self.handler(conn, self.stopping)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.acceptor.join(timeout=5)
        for t in self.threads:
            t.join(timeout=5)
        self.sock.close()


def corrupting_echo(conn, stopping):
    """Echo, with byte 10 of the stream flipped."""
    offset = 0
    while not stopping.is_set():
        try:
            data = conn.recv(65536)
        except socket.timeout:
            continue
        if not data:
            return
        if offset <= 10 < offset + len(data):
            data = bytearray(data)
            data[10 - offset] ^= 0x01
            data = bytes(data)
        offset += len(data)
        conn.sendall(data)


def closing_early(conn, stopping):
    """Echo one request's worth of bytes (64), then close."""
    got = b""
    while len(got) < 64 and not stopping.is_set():
        try:
            data = conn.recv(64 - len(got))
        except socket.timeout:
            continue
        if not data:
            return
        got += data
    conn.sendall(got)


class BenchTest(unittest.TestCase):

    def test_echo_json(self):
        with Server("echo=tcp:127.0.0.1:0") as srv:
            host, port = srv.addr("echo")
            report = bench_json(self, f"tcp:{host}:{port}", "--duration", "1", "--conns", "10")
        self.assertEqual(report["endpoint"], f"tcp:{host}:{port}")
        self.assertEqual((report["conns"], report["size"], report["pipeline"], report["rate"]),
                         (10, 64, 1, 0))
        self.assertGreater(report["duration_s"], 0.9)
        self.assertGreater(report["round_trips_per_s"], 0)
        self.assertGreater(report["mb_per_s"], 0)
        # the load generator's own CPU in the measured second: some, and no
        # more than one CPU's worth (it is one thread)
        self.assertGreater(report["client_cpu_s"], 0)
        self.assertLessEqual(report["client_cpu_s"], report["duration_s"] * 1.05 + 0.01)
        self.assertAlmostEqual(report["client_cpu_percent"],
                               100 * report["client_cpu_s"] / report["duration_s"], delta=0.2)

    def test_text_report(self):
        with Server("echo=tcp:127.0.0.1:0") as srv:
            host, port = srv.addr("echo")
            r = bench(f"{host}:{port}", "-d", "0.5", "-c", "4", "-s", "100", "-q")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = r.stdout.decode()
        for word in ("round trips", "round trips/s", "MB/s", "request + reply bytes",
                     "p50", "p90", "p99", "p99.9", "max", "\u00b5s", "connections  4",
                     "errors       0", "client CPU", "% of one CPU"):
            self.assertIn(word, out)
        self.assertEqual(r.stderr, b"")  # not a terminal: no progress line

    def test_upper_workload(self):
        with Server("upper=tcp:127.0.0.1:0") as srv:
            host, port = srv.addr("upper")
            bench_json(self, f"{host}:{port}", "-d", "1", "-c", "5", "--workload", "upper")

    def test_upper_workload_against_echo_mismatches(self):
        with Server("echo=tcp:127.0.0.1:0") as srv:
            host, port = srv.addr("echo")
            r = bench(f"{host}:{port}", "-d", "1", "-c", "2", "--workload", "upper", "--json")
        self.assertEqual(r.returncode, 1)
        self.assertGreater(json.loads(r.stdout)["mismatches"], 0)
        self.assertRegex(r.stderr.decode(), r"sk: bench: reply mismatch on connection \d+ at byte 0 "
                                            r"of request 0 \(expected 0x[4-5][0-9a-f], got 0x[6-7][0-9a-f]\)")

    def test_pipeline(self):
        with Server("echo=tcp:127.0.0.1:0") as srv:
            host, port = srv.addr("echo")
            report = bench_json(self, f"{host}:{port}", "-d", "1", "-c", "8", "--pipeline", "4",
                                "--size", "300")
        self.assertEqual((report["pipeline"], report["size"]), (4, 300))

    def test_large_requests(self):
        with Server("echo=tcp:127.0.0.1:0") as srv:
            host, port = srv.addr("echo")
            bench_json(self, f"{host}:{port}", "-d", "0.5", "-c", "2", "-p", "2", "-s", "200000")

    def test_open_loop_rate(self):
        with Server("echo=tcp:127.0.0.1:0") as srv:
            host, port = srv.addr("echo")
            report = bench_json(self, f"{host}:{port}", "--rate", "2000", "--duration", "1",
                                "--conns", "10")
        self.assertEqual(report["rate"], 2000)
        self.assertTrue(1000 <= report["round_trips"] <= 3000, report)

    def test_unix_endpoint(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "echo.sock")
            with Server(f"echo=unix:{path}") as srv:
                self.assertEqual(srv.addr("echo", "unix"), path)
                bench_json(self, f"unix:{path}", "-d", "0.5", "-c", "20", "-p", "2")

    def test_many_connections(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2200:
            self.skipTest(f"descriptor hard limit {hard} is below 2200")
        # The server gets its own raised limit from us (children inherit it).
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        try:
            with Server("echo=tcp:127.0.0.1:0") as srv:
                host, port = srv.addr("echo")
                report = bench_json(self, f"{host}:{port}", "-d", "1", "-c", "1000")
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        self.assertEqual(report["conns"], 1000)

    def test_corrupt_byte_is_reported(self):
        with PyServer(corrupting_echo) as srv:
            r = bench(f"127.0.0.1:{srv.port}", "-d", "1", "-c", "2", "-s", "64")
        self.assertNotEqual(r.returncode, 0)
        err = r.stderr.decode()
        self.assertRegex(err, r"sk: bench: reply mismatch on connection [01] at byte 10 of "
                              r"request 0 \(expected 0x[0-9a-f]{2}, got 0x[0-9a-f]{2}\)")
        m = re.search(r"expected 0x([0-9a-f]{2}), got 0x([0-9a-f]{2})", err)
        self.assertEqual(int(m.group(1), 16) ^ int(m.group(2), 16), 0x01)

    def test_peer_closing_early_is_an_error(self):
        with PyServer(closing_early) as srv:
            r = bench(f"127.0.0.1:{srv.port}", "-d", "1", "-c", "2", "--json")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), r"sk: bench: connection [01]: (the server closed the "
                                            r"connection|Connection reset by peer)")
        self.assertEqual(json.loads(r.stdout)["errors"], 2)

    def test_connection_refused(self):
        with socket.socket() as s:  # a port that nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = bench(f"127.0.0.1:{port}", "-d", "1", "-c", "3")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"sk: bench: 127.0.0.1:{port}: Connection refused", r.stderr.decode())
        self.assertEqual(r.stdout, b"")

    def test_usage_errors(self):
        for args in ([], ["--conns", "0", "127.0.0.1:1"], ["--size", "x", "127.0.0.1:1"],
                     ["--duration", "0", "127.0.0.1:1"], ["--rate", "-5", "127.0.0.1:1"],
                     ["--workload", "rot13", "127.0.0.1:1"], ["--bogus", "127.0.0.1:1"],
                     ["udp:127.0.0.1:7"], ["a:1", "b:2"], ["127.0.0.1:99999"]):
            r = run_sk("bench", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(b"sk: bench: ", r.stderr)
        r = run_sk("bench", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"usage: sk bench", r.stdout)


if __name__ == "__main__":
    unittest.main()
