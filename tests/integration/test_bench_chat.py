"""`sk bench --workload chat`, tiny runs: against `sk serve chat` in open and
closed loop, and against `ncat --chat` (which does not echo: --no-echo).
Asserts only that a run completes and reports its numbers (no timing
assertions), plus the usage errors."""
import shutil
import socket
import subprocess
import time
import unittest

from skharness import Server, bench_report, run_sk

KEYS = {"workload", "endpoint", "conns", "size", "rate", "window", "no_echo", "settle_s",
        "duration_s", "messages", "deliveries", "deliveries_per_s", "owed", "missing",
        "latency_us", "errors", "client_cpu_s", "client_cpu_percent"}


def chat_bench(testcase, endpoint, *args):
    r = run_sk("bench", "--workload", "chat", endpoint, "--duration", "0.5", "--warmup", "0",
               "--json", *args, timeout=60)
    report = bench_report(testcase, r)
    testcase.assertEqual(set(report), KEYS)
    testcase.assertGreater(report["messages"], 0)
    testcase.assertGreater(report["deliveries"], 0)
    testcase.assertGreater(report["deliveries_per_s"], 0)
    testcase.assertEqual(report["missing"], 0)
    testcase.assertEqual(report["errors"], 0)
    # the load generator's own CPU over the measured time: one thread, so at
    # most that time (and a little for the clock reads' granularity)
    testcase.assertGreaterEqual(report["client_cpu_s"], 0)
    testcase.assertLessEqual(report["client_cpu_s"], report["duration_s"] * 1.05 + 0.01)
    return report


class ChatBenchTest(unittest.TestCase):
    def setUp(self):
        self.srv = Server("chat=tcp:127.0.0.1:0", "--model", "epoll", "-q", "--chat-rate", "0",
                          expect=1)
        self.addCleanup(self.srv.__exit__, None, None, None)
        self.endpoint = "127.0.0.1:%d" % self.srv.addr("chat")[1]

    def test_open_loop(self):
        report = chat_bench(self, self.endpoint, "--conns", "20", "--rate", "40")
        self.assertEqual(report["conns"], 20)
        self.assertEqual(report["owed"], report["messages"] * 20)  # the sender too

    def test_closed_loop(self):
        report = chat_bench(self, self.endpoint, "--conns", "10", "--pipeline", "4",
                            "--size", "100")
        self.assertEqual(report["rate"], 0)
        self.assertEqual(report["window"], 4)

    def test_text_report(self):
        r = run_sk("bench", "--workload", "chat", self.endpoint, "-c", "5", "-d", "0.3",
                   "--warmup", "0", timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = r.stdout.decode()
        for word in ("5 clients in one room", "deliveries/s", "p99", "missing      0 of"):
            self.assertIn(word, out)


def listening(port):
    """Whether a TCP socket listens on 127.0.0.1:port (from /proc/net/tcp)."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == want and line.split()[3] == "0A"
                   for line in f.readlines()[1:])


@unittest.skipUnless(shutil.which("ncat"), "ncat is not installed")
class NcatChatTest(unittest.TestCase):
    def test_ncat_chat_no_echo(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        ncat = subprocess.Popen(["ncat", "-l", "--chat", "127.0.0.1", str(port)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (ncat.kill(), ncat.wait(timeout=10)))
        # Wait for the listener without connecting: ncat --chat quits when a
        # client is gone before it has looked at it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not listening(port):
            time.sleep(0.05)
        report = chat_bench(self, "127.0.0.1:%d" % port, "--conns", "8", "--no-echo",
                            "--pipeline", "2")
        self.assertTrue(report["no_echo"])
        self.assertEqual(report["owed"], report["messages"] * 7)


class UsageTest(unittest.TestCase):
    def test_usage_errors(self):
        for args in (["--workload", "chat", "-c", "1", "127.0.0.1:9"],
                     ["--workload", "chat", "--size", "5000", "127.0.0.1:9"],
                     ["--no-echo", "127.0.0.1:9"]):
            r = run_sk("bench", *args, timeout=30)
            self.assertEqual(r.returncode, 2, (args, r.stderr))

    def test_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        r = run_sk("bench", "--workload", "chat", "-c", "3", "127.0.0.1:%d" % port, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"Connection refused", r.stderr)


if __name__ == "__main__":
    unittest.main()
