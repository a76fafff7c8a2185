"""The fork, prefork and pool models as a user sees them: seed-style
clients, concurrency and queueing, graceful shutdown with no child process
left behind, a killed prefork worker replaced, --max-conns and
--idle-timeout. Loopback and ephemeral ports only; every wait is bounded."""
import os
import signal
import socket
import time
import unittest

from skharness import (Server, connect_all_then_send, recv_exact, refused, seed_tcp_client,
                       wait_for)

CONCURRENT = 20


def children_of(pid):
    """Pids of the live child processes of pid (every thread's children)."""
    kids = set()
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return kids
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids.update(int(k) for k in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return kids


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def silent_until_closed(sk, timeout):
    """recv on a client that sends nothing: b'' once the server closes it
    (a reset counts as closed), None if it is still open after timeout."""
    sk.settimeout(timeout)
    try:
        return sk.recv(16)
    except ConnectionResetError:
        return b""
    except socket.timeout:
        return None


class ProcessModelSuite:
    """Mixed into one TestCase per model (see the bottom of the file)."""
    model = None
    workers = None

    def serve(self, *args, **kw):
        extra = ["--workers", str(self.workers)] if self.workers else []
        return Server(*args, "--model", self.model, *extra, **kw)

    def test_seed_clients_get_upper_case(self):
        with self.serve("upper=127.0.0.1:0") as srv:
            for _ in range(5):
                self.assertEqual(seed_tcp_client(srv.addr("upper")), b"HELLO WORLD")
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(10)
            u.sendto(b"hello world", srv.addr("upper", "udp"))
            self.assertEqual(u.recvfrom(1024)[0], b"HELLO WORLD")
            u.close()
            log = srv.stderr_text()
        self.assertRegex(log, r"open upper tcp:127\.0\.0\.1:\d+ from 127\.0\.0\.1:\d+")
        self.assertRegex(log, r"close upper tcp:\S+ from \S+: 11 bytes in, 11 bytes out")

    def test_sigterm_lets_live_connections_finish_and_leaves_no_child(self):
        srv = self.serve("upper=tcp:127.0.0.1:0", "--grace", "20")
        try:
            addr = srv.addr("upper")
            n = 2 if self.model == "prefork" else 3  # prefork: one per worker
            socks = [socket.create_connection(addr, timeout=10) for _ in range(n)]
            for s in socks:
                s.sendall(b"before")
                self.assertEqual(recv_exact(s, 6), b"BEFORE")
            kids = children_of(srv.proc.pid)
            if self.model != "pool":
                self.assertGreaterEqual(len(kids), n)
            srv.signal(signal.SIGTERM)
            self.assertTrue(wait_for(lambda: refused(addr)), "still accepting after SIGTERM")
            for s in socks:  # still served during the grace period
                s.sendall(b"after")
                self.assertEqual(recv_exact(s, 5), b"AFTER")
                s.close()
            self.assertEqual(srv.wait(20), 0)
            wait_for(lambda: not any(pid_alive(k) for k in kids), 5)
            self.assertEqual([k for k in kids if pid_alive(k)], [])
        finally:
            srv.__exit__()

    def test_connection_past_the_grace_period_is_ended(self):
        srv = self.serve("upper=tcp:127.0.0.1:0", "--grace", "1")
        try:
            quiet = socket.create_connection(srv.addr("upper"), timeout=10)
            quiet.sendall(b"x")
            self.assertEqual(recv_exact(quiet, 1), b"X")
            kids = children_of(srv.proc.pid)
            srv.signal(signal.SIGTERM)
            self.assertEqual(silent_until_closed(quiet, 10), b"")
            quiet.close()
            self.assertEqual(srv.wait(20), 0)
            self.assertEqual([k for k in kids if pid_alive(k)], [])
            self.assertRegex(srv.stderr_text(), r"shutdown: closed 1 connection after the grace period"
                             if self.model != "prefork" else r"shutdown: closed \d+ connections?")
        finally:
            srv.__exit__()

    def test_idle_timeout_closes_a_silent_client(self):
        with self.serve("upper=tcp:127.0.0.1:0", "--idle-timeout", "1") as srv:
            quiet = socket.create_connection(srv.addr("upper"), timeout=10)
            start = time.monotonic()
            self.assertEqual(silent_until_closed(quiet, 5), b"")
            self.assertLess(time.monotonic() - start, 5)
            quiet.close()
            self.assertEqual(seed_tcp_client(srv.addr("upper")), b"HELLO WORLD")
            self.assertIn("(idle timeout)", srv.stderr_text())


class Fork(ProcessModelSuite, unittest.TestCase):
    model = "fork"

    def test_concurrent_clients_each_get_a_process(self):
        with self.serve("upper=tcp:127.0.0.1:0") as srv:
            socks = [socket.create_connection(srv.addr("upper"), timeout=15)
                     for _ in range(CONCURRENT)]
            try:
                self.assertTrue(wait_for(lambda: len(children_of(srv.proc.pid)) >= CONCURRENT),
                                "not one process per connection")
                for i, s in enumerate(socks):
                    s.sendall(b"client %d" % i)
                for i, s in enumerate(socks):
                    self.assertEqual(recv_exact(s, len(b"client %d" % i)), b"CLIENT %d" % i)
            finally:
                for s in socks:
                    s.close()
            # Every child is reaped once its client left.
            self.assertTrue(wait_for(lambda: not children_of(srv.proc.pid)))

    def test_max_conns_refuses_the_third(self):
        with self.serve("upper=tcp:127.0.0.1:0", "--max-conns", "2") as srv:
            addr = srv.addr("upper")
            first = [socket.create_connection(addr, timeout=10) for _ in range(2)]
            for s in first:
                s.sendall(b"in")
                self.assertEqual(recv_exact(s, 2), b"IN")
            third = socket.create_connection(addr, timeout=10)
            self.assertEqual(silent_until_closed(third, 5), b"")  # closed, no data
            third.close()
            first[0].close()
            # Room again once a child is reaped.
            self.assertTrue(wait_for(lambda: try_round_trip(addr) == b"AGAIN"))
            first[1].close()
            self.assertRegex(srv.stderr_text(), r"refuse upper .*--max-conns 2")


def try_round_trip(addr):
    try:
        return seed_tcp_client(addr, b"again")
    except OSError:
        return None


class Prefork(ProcessModelSuite, unittest.TestCase):
    model = "prefork"
    workers = 2

    def test_workers_start_at_once(self):
        with self.serve("upper=tcp:127.0.0.1:0") as srv:
            self.assertEqual(len(wait_for(lambda: len(children_of(srv.proc.pid)) == 2
                                          and children_of(srv.proc.pid))), 2)

    def test_third_client_waits_for_a_free_worker(self):
        with self.serve("upper=tcp:127.0.0.1:0") as srv:
            assert_third_waits(self, srv.addr("upper"))

    def test_killed_worker_is_replaced(self):
        with self.serve("upper=tcp:127.0.0.1:0") as srv:
            pid = srv.proc.pid
            workers = wait_for(lambda: len(children_of(pid)) == 2 and children_of(pid))
            self.assertEqual(len(workers), 2)
            victim = min(workers)
            os.kill(victim, signal.SIGKILL)
            now = wait_for(lambda: len(children_of(pid)) == 2 and victim not in children_of(pid)
                           and children_of(pid))
            self.assertTrue(now, "worker not replaced")
            self.assertNotIn(victim, now)
            for _ in range(10):
                self.assertEqual(seed_tcp_client(srv.addr("upper")), b"HELLO WORLD")
            self.assertRegex(srv.stderr_text(),
                             r"prefork: worker %d killed by signal 9; starting another" % victim)


class Pool(ProcessModelSuite, unittest.TestCase):
    model = "pool"
    workers = 3

    def test_concurrent_clients_with_enough_workers(self):
        with Server("upper=tcp:127.0.0.1:0", "--model", "pool", "--workers",
                    str(CONCURRENT)) as srv:
            got = connect_all_then_send(srv.addr("upper"), CONCURRENT)
            self.assertEqual(got, [b"CLIENT %d" % i for i in range(CONCURRENT)])

    def test_third_client_waits_in_the_queue(self):
        with Server("upper=tcp:127.0.0.1:0", "--model", "pool", "--workers", "2") as srv:
            assert_third_waits(self, srv.addr("upper"))

    def test_max_conns_counts_queued_connections(self):
        with Server("upper=tcp:127.0.0.1:0", "--model", "pool", "--workers", "1",
                    "--max-conns", "2") as srv:
            addr = srv.addr("upper")
            served = socket.create_connection(addr, timeout=10)
            served.sendall(b"a")
            self.assertEqual(recv_exact(served, 1), b"A")
            queued = socket.create_connection(addr, timeout=10)  # queued behind the worker
            third = socket.create_connection(addr, timeout=10)
            self.assertEqual(silent_until_closed(third, 5), b"")
            third.close()
            served.close()
            queued.sendall(b"b")
            self.assertEqual(recv_exact(queued, 1), b"B")
            queued.close()

    def test_queued_connection_past_the_grace_period_is_closed_unserved(self):
        srv = Server("upper=tcp:127.0.0.1:0", "--model", "pool", "--workers", "1",
                     "--grace", "1")
        try:
            addr = srv.addr("upper")
            live = socket.create_connection(addr, timeout=10)
            live.sendall(b"a")
            self.assertEqual(recv_exact(live, 1), b"A")
            queued = socket.create_connection(addr, timeout=10)
            queued.sendall(b"b")
            self.assertIsNone(silent_until_closed(queued, 0.5))  # waiting for the worker
            srv.signal(signal.SIGTERM)
            self.assertEqual(silent_until_closed(live, 10), b"")
            self.assertEqual(silent_until_closed(queued, 10), b"")  # never answered
            live.close()
            queued.close()
            self.assertEqual(srv.wait(20), 0)
            log = srv.stderr_text()
            self.assertIn("(shutdown before it was served)", log)
            self.assertIn("shutdown: closed 2 connections after the grace period", log)
        finally:
            srv.__exit__()


def assert_third_waits(test, addr):
    """Two workers: two clients are served while a third waits (queued or in
    the backlog) until one of them leaves."""
    a = socket.create_connection(addr, timeout=10)
    b = socket.create_connection(addr, timeout=10)
    try:
        for s, msg in ((a, b"one"), (b, b"two")):
            s.sendall(msg)
            test.assertEqual(recv_exact(s, len(msg)), msg.upper())
        c = socket.create_connection(addr, timeout=10)
        try:
            c.sendall(b"three")
            c.settimeout(1.0)
            with test.assertRaises(socket.timeout):
                c.recv(16)  # no free worker yet
            a.close()
            c.settimeout(10)
            test.assertEqual(recv_exact(c, 5), b"THREE")
        finally:
            c.close()
    finally:
        a.close()
        b.close()


if __name__ == "__main__":
    unittest.main()
