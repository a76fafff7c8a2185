"""The selector examples (examples/select_server.c, examples/epoll_server.c)
serve many clients at once, like the seeds' select / selectors servers.

Each server runs from SK_BUILD_DIR/examples/ on loopback with an ephemeral
port; peers are seed-style Python sockets. Every wait is bounded; every
child process is killed and reaped in cleanup.
"""
import socket
import subprocess
import unittest

from skharness import EXAMPLE_TIMEOUT as TIMEOUT, ExampleServers, example, recv_until_eof

SERVERS = ("select_server", "epoll_server")


class SelectorExampleTest(ExampleServers, unittest.TestCase):
    def connect(self, port):
        c = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.addCleanup(c.close)
        return c

    def test_two_clients_at_once(self):
        for name in SERVERS:
            with self.subTest(server=name):
                proc, port = self.start_server(name, "127.0.0.1:0", "-n", "2")
                first, second = self.connect(port), self.connect(port)
                # The second client is served while the first one is idle,
                # still connected: a blocking one-at-a-time server would hang.
                second.sendall(b"second")
                self.assertEqual(second.recv(1024), b"SECOND")
                first.sendall(b"first")
                self.assertEqual(first.recv(1024), b"FIRST")
                second.sendall(b"again")
                self.assertEqual(second.recv(1024), b"AGAIN")
                first.close()
                second.close()
                out = self.finish(proc)
                self.assertEqual(out.count("connected by 127.0.0.1:"), 2, out)
                self.assertEqual(out.count("closed 127.0.0.1:"), 2, out)

    def test_many_clients_and_long_messages(self):
        message = b"abcdefghij" * 2000  # 20000 bytes: many recv(1024) calls
        for name in SERVERS:
            with self.subTest(server=name):
                proc, port = self.start_server(name, "127.0.0.1:0", "10")
                clients = [self.connect(port) for _ in range(10)]
                for c in clients:
                    c.sendall(message)
                    c.shutdown(socket.SHUT_WR)
                for c in clients:
                    got = recv_until_eof(c)  # until the server closes
                    self.assertEqual(got, message.upper())
                    c.close()
                out = self.finish(proc)
                self.assertEqual(out.count("closed 127.0.0.1:"), 10, out)

    def test_bad_endpoint(self):
        for name in SERVERS:
            with self.subTest(server=name):
                r = subprocess.run([example(name), "127.0.0.1:99999"],
                                   capture_output=True, timeout=TIMEOUT)
                self.assertNotEqual(r.returncode, 0)
                self.assertTrue(r.stderr)


if __name__ == "__main__":
    unittest.main()
