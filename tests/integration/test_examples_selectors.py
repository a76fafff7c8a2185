"""The selector examples (examples/select_server.c, examples/epoll_server.c)
serve many clients at once, like the seeds' select / selectors servers.

Each server runs from SK_BUILD_DIR/examples/ on loopback with an ephemeral
port; peers are seed-style Python sockets. Every wait is bounded; every
child process is killed and reaped in cleanup.
"""
import os
import select
import socket
import subprocess
import unittest

BUILD_DIR = os.environ.get(
    "SK_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
EXAMPLES = os.path.join(BUILD_DIR, "examples")
TIMEOUT = 10  # seconds for any one step
SERVERS = ("select_server", "epoll_server")


class SelectorExampleTest(unittest.TestCase):
    def start_server(self, name, *args):
        """Start a server example; return (process, port) once it prints
        "listening on 127.0.0.1:PORT"."""
        proc = subprocess.Popen([os.path.join(EXAMPLES, name), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.stop, proc)
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
        self.assertTrue(ready, f"{name} printed nothing in {TIMEOUT} s")
        line = proc.stdout.readline().decode()
        self.assertTrue(line.startswith("listening on 127.0.0.1:"), line)
        port = int(line.rsplit(":", 1)[1])
        self.assertGreater(port, 0)
        return proc, port

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=TIMEOUT)

    def finish(self, proc):
        """Wait for a bounded server to exit by itself; return its stdout."""
        out, err = proc.communicate(timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0, err.decode())
        return out.decode()

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
                    got = b""
                    while chunk := c.recv(65536):  # until the server closes
                        got += chunk
                    self.assertEqual(got, message.upper())
                    c.close()
                out = self.finish(proc)
                self.assertEqual(out.count("closed 127.0.0.1:"), 10, out)

    def test_bad_endpoint(self):
        for name in SERVERS:
            with self.subTest(server=name):
                r = subprocess.run([os.path.join(EXAMPLES, name), "127.0.0.1:99999"],
                                   capture_output=True, timeout=TIMEOUT)
                self.assertNotEqual(r.returncode, 0)
                self.assertTrue(r.stderr)


if __name__ == "__main__":
    unittest.main()
