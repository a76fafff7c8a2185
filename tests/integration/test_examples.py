"""The example programs (examples/*.c) behave like the seeds' Python programs.

Each example runs from SK_BUILD_DIR/examples/ on loopback with an ephemeral
port; peers are seed-style Python sockets or the matching C example. Every
wait is bounded; every child process is killed and reaped in cleanup.
"""
import socket
import subprocess
import unittest

from skharness import EXAMPLE_TIMEOUT as TIMEOUT, ExampleServers, example


def free_port(kind):
    """A port nobody uses right now (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ExampleTest(ExampleServers, unittest.TestCase):
    def run_example(self, name, *args):
        return subprocess.run([example(name), *args], capture_output=True,
                              timeout=TIMEOUT)

    # --- TCP -------------------------------------------------------------

    def test_tcp_server_answers_seed_client(self):
        proc, port = self.start_server("tcp_server", "127.0.0.1:0", "-n", "1")
        with socket.socket() as client:             # socket.socket()
            client.settimeout(TIMEOUT)
            client.connect(("127.0.0.1", port))
            client.send(b"hello world")
            self.assertEqual(client.recv(1024), b"HELLO WORLD")
        self.assertIn("connected by 127.0.0.1:", self.finish(proc))

    def test_tcp_server_serves_clients_one_after_another(self):
        proc, port = self.start_server("tcp_server", "127.0.0.1:0", "3")
        for word in (b"one", b"two", b"three"):
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c:
                c.sendall(word)
                c.shutdown(socket.SHUT_WR)
                self.assertEqual(c.recv(1024), word.upper())
                self.assertEqual(c.recv(1024), b"")  # the server closed after EOF
        self.assertEqual(self.finish(proc).count("connected by"), 3)

    def test_tcp_client_against_tcp_server(self):
        proc, port = self.start_server("tcp_server", "127.0.0.1:0", "-n", "2")
        r = self.run_example("tcp_client", f"127.0.0.1:{port}")
        self.assertEqual((r.returncode, r.stdout), (0, b"HELLO WORLD\n"), r.stderr)
        r = self.run_example("tcp_client", f"127.0.0.1:{port}", "Sticky Packets?")
        self.assertEqual((r.returncode, r.stdout), (0, b"STICKY PACKETS?\n"), r.stderr)
        self.finish(proc)

    def test_tcp_client_reads_a_reply_longer_than_one_recv(self):
        proc, port = self.start_server("tcp_server", "127.0.0.1:0", "-n", "1")
        message = "abcdefghij" * 1000  # 10000 bytes: many recv(1024) calls
        r = self.run_example("tcp_client", f"127.0.0.1:{port}", message)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, message.upper().encode() + b"\n")
        self.finish(proc)

    def test_tcp_client_reports_refused_connection(self):
        port = free_port(socket.SOCK_STREAM)
        r = self.run_example("tcp_client", f"127.0.0.1:{port}")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"refused", r.stderr)

    def test_tcp_server_reports_busy_port(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            r = self.run_example("tcp_server", f"127.0.0.1:{port}", "-n", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"Address already in use", r.stderr)

    def test_server_rejects_bad_endpoint(self):
        for name in ("tcp_server", "udp_server"):
            r = self.run_example(name, "127.0.0.1:99999")
            self.assertEqual(r.returncode, 2, name)
            self.assertTrue(r.stderr, name)

    # --- UDP -------------------------------------------------------------

    def test_udp_server_answers_seed_client(self):
        proc, port = self.start_server("udp_server", "127.0.0.1:0", "-n", "2")
        with socket.socket(type=socket.SOCK_DGRAM) as client:
            client.settimeout(TIMEOUT)
            for msg in (b"hello world", b"hi"):
                client.sendto(msg, ("127.0.0.1", port))
                data, addr = client.recvfrom(1024)
                self.assertEqual((data, addr), (msg.upper(), ("127.0.0.1", port)))
        self.assertEqual(self.finish(proc).count("answered 127.0.0.1:"), 2)

    def test_udp_client_against_udp_server(self):
        proc, port = self.start_server("udp_server", "127.0.0.1:0", "-n", "2")
        r = self.run_example("udp_client", f"127.0.0.1:{port}")
        self.assertEqual((r.returncode, r.stdout), (0, b"HELLO WORLD\n"), r.stderr)
        r = self.run_example("udp_client", f"127.0.0.1:{port}", "datagram")
        self.assertEqual((r.returncode, r.stdout), (0, b"DATAGRAM\n"), r.stderr)
        self.finish(proc)

    def test_udp_client_times_out_when_nobody_answers(self):
        # A bound socket that never replies: the client waits 2 s, then fails.
        with socket.socket(type=socket.SOCK_DGRAM) as mute:
            mute.bind(("127.0.0.1", 0))
            mute.settimeout(TIMEOUT)
            r = self.run_example("udp_client", "127.0.0.1:%d" % mute.getsockname()[1])
            self.assertEqual(mute.recvfrom(1024)[0], b"hello world")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"timed out", r.stderr.lower())

    # --- sticky packets --------------------------------------------------

    def test_sticky_packets(self):
        r = self.run_example("sticky_packets")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().splitlines()
        self.assertIn("raw: one recv() returned 18 bytes: hello1hello2hello3", lines)
        framed = [line for line in lines if line.startswith("framed: message")]
        self.assertEqual(framed, ["framed: message 1: hello1",
                                  "framed: message 2: hello2",
                                  "framed: message 3: hello3"])


if __name__ == "__main__":
    unittest.main()
