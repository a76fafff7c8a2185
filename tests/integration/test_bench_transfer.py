"""bench/transfer.sh end to end, tiny: an 8 MiB file, one measurement per
transfer. The table has a row with figures for sockkit upload and download,
nc, socat and iperf3 (iperf3's only when it is installed), the results
files are written, and the data directory is left empty. Loopback only;
no assertion on the figures themselves."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from skharness import SK_BIN

SOURCE_DIR = os.environ.get("SK_SOURCE_DIR",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPT = os.path.join(SOURCE_DIR, "bench", "transfer.sh")
RATIO = r"(?:\d+\.\d\d|n/a)"


def figures_row(label):
    """A table row with seconds, MB/s, GiB/s and three ratios."""
    return re.compile(r"(?m)^%s\s+\d+\.\d{3}\s+[\d,]+\s+\d+\.\d\d\s+%s\s+%s\s+%s(\s|$)"
                      % (re.escape(label), RATIO, RATIO, RATIO))


def sk_has(verb):
    r = subprocess.run([SK_BIN, verb, "--help"], capture_output=True, timeout=30)
    return r.returncode == 0


class TransferScript(unittest.TestCase):
    def setUp(self):
        self.results = tempfile.mkdtemp(prefix="sk-transfer-results-")
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.data = tempfile.mkdtemp(prefix="sk-transfer-data-", dir=shm)

    def tearDown(self):
        shutil.rmtree(self.results, ignore_errors=True)
        shutil.rmtree(self.data, ignore_errors=True)

    def test_transfer_sh_prints_the_table_and_writes_results(self):
        build_dir = os.environ.get("SK_BUILD_DIR", os.path.dirname(os.path.abspath(SK_BIN)))
        env = dict(os.environ, BUILD=build_dir, BENCH_NO_BUILD="1", BENCH_RESULTS=self.results,
                   BENCH_DATA_DIR=self.data, TRANSFER_SIZE="8M", BENCH_REPEAT="1")
        out = subprocess.run(["bash", SCRIPT], env=env, capture_output=True, timeout=300)
        err = out.stderr.decode(errors="replace")
        self.assertEqual(out.returncode, 0, err)
        table = out.stdout.decode()
        self.assertRegex(table, r"(?m)^transfer\s+seconds\s+MB/s\s+GiB/s\s+ratio to nc\s+ratio to socat"
                                r"\s+ratio to iperf3\s+notes$")
        self.assertRegex(table, figures_row("nc"), err)
        self.assertRegex(table, figures_row("socat"), err)
        self.assertRegex(table, r"(?m)^nc\s+\S+\s+\S+\s+\S+\s+1\.00\s")
        if shutil.which("iperf3"):
            self.assertRegex(table, figures_row("iperf3"), err)
        else:
            self.assertRegex(table, r"(?m)^iperf3\s+n/a\b.*iperf3 not installed")
        for label, verb in (("sockkit upload", "send"), ("sockkit download", "get")):
            if sk_has(verb):
                self.assertRegex(table, figures_row(label), err)
            else:
                self.assertRegex(table, r"(?m)^%s\s+n/a\b.*not built" % label)
        self.assertRegex(table, r"(?m)^target: sockkit upload >= 2\.5x nc: ")
        with open(os.path.join(self.results, "transfer.md")) as md:
            text = md.read()
        self.assertIn("| nc | ", text)
        self.assertIn("8388608 bytes", text)
        with open(os.path.join(self.results, "transfer.dat")) as dat:
            rows = [l for l in dat if not l.startswith("#")]
        self.assertEqual([r.split('"')[1] for r in rows],
                         ["sockkit upload", "sockkit download", "nc", "socat", "iperf3", "iperf3 -F", "cp"])
        if shutil.which("gnuplot"):
            for ext in ("svg", "png"):
                self.assertGreater(os.path.getsize(os.path.join(self.results, "transfer." + ext)), 1000)
        # The script removes its files, received copies included.
        self.assertEqual(os.listdir(self.data), [])

    def test_a_bad_size_is_refused(self):
        env = dict(os.environ, BENCH_NO_BUILD="1", BENCH_RESULTS=self.results,
                   BENCH_DATA_DIR=self.data, TRANSFER_SIZE="lots")
        out = subprocess.run(["bash", SCRIPT], env=env, capture_output=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("TRANSFER_SIZE", out.stderr.decode())
        self.assertEqual(os.listdir(self.data), [])


if __name__ == "__main__":
    unittest.main()
