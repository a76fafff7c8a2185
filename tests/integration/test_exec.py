"""`sk serve exec` and `sk exec` (docs/exec.md): exit statuses, the
authentication (wrong, missing, replayed, rate-limited), --exec-allow and
--exec-shell, the child's descriptors and environment, streaming 1 GiB in
bounded server memory, stdin, timeouts, a vanished client, start-up
refusals, and the audit log. Loopback only; every wait is bounded."""
import hashlib
import hmac
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from skharness import SK_BIN, ModelUnavailable, Server, proc_rss_bytes, recv_exact, wait_for

TOKEN = b"a-test-token-0123456789abcdef\n"
MODEL = os.environ.get("SK_EXEC_MODEL", "epoll")


def sanitized_build():
    """Whether sk was built with a sanitizer, whose allocator (quarantine,
    shadow memory) makes RSS say nothing about the program's own memory."""
    cache = os.path.join(os.environ.get("SK_BUILD_DIR", ""), "CMakeCache.txt")
    try:
        with open(cache) as f:
            text = f.read()
    except OSError:
        return False
    return "SK_SANITIZE:BOOL=ON" in text or "SK_TSAN:BOOL=ON" in text

CHALLENGE, AUTH, READY, REQUEST, STARTED = 0x01, 0x02, 0x03, 0x10, 0x11
STDOUT, EXIT, ERROR = 0x22, 0x30, 0x7F


def write_token(path, data=TOKEN, mode=0o600):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


# --- the protocol, for the tests that play a client by hand ---

def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def recv_frame(sock):
    """One message, or None at EOF."""
    header = recv_exact(sock, 4)
    if len(header) < 4:
        return None
    (n,) = struct.unpack(">I", header)
    data = recv_exact(sock, n)
    return data if len(data) == n else None


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


def request(argv, env=(), cwd="", timeout_ms=0):
    return frame(bytes([REQUEST, 0]) + struct.pack(">I", timeout_ms) + string(cwd)
                 + struct.pack(">H", len(argv)) + b"".join(string(a) for a in argv)
                 + struct.pack(">H", len(env)) + b"".join(string(e) for e in env))


def answer(token, server_nonce, client_nonce):
    return hmac.new(token.rstrip(b"\n"), server_nonce + client_nonce, hashlib.sha256).digest()


def open_session(addr):
    """Connect and read the challenge; returns (socket, server nonce)."""
    sock = socket.create_connection(addr, timeout=10)
    ch = recv_frame(sock)
    assert ch is not None and ch[0] == CHALLENGE and ch[1] == 1 and len(ch) == 34, ch
    return sock, ch[2:]


def proc_children(pid):
    """Pids of pid's children (every thread's)."""
    kids = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def group_members(pgid):
    """Pids of live processes (not zombies) in process group pgid."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(name))
    return found


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


class ExecCase(unittest.TestCase):
    """Starts one `sk serve exec` per test, with extra server options."""

    server_args = ()
    model = MODEL

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sk-exec-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.dir])
        self.token = write_token(os.path.join(self.dir, "token"))
        self.marker = os.path.join(self.dir, "marker")
        self.server = self.start_server(*self.server_args)

    def start_server(self, *extra, endpoint="exec=tcp:127.0.0.1:0", env=None):
        old = dict(os.environ)
        if env:
            os.environ.update(env)
        try:
            srv = Server(endpoint, "--model", self.model, "--exec-token-file", self.token,
                         *extra, expect=1)
        finally:
            os.environ.clear()
            os.environ.update(old)
        self.addCleanup(self.check_clean_exit, srv)
        self.addCleanup(srv.__exit__)
        return srv

    def check_clean_exit(self, srv):
        """After the server stopped: no sanitizer report in its stderr (in a
        -DSK_SANITIZE or -DSK_TSAN build)."""
        log = srv.log()
        for marker in ("Sanitizer", "runtime error:"):
            self.assertNotIn(marker, log)

    @property
    def addr(self):
        return self.server.addr("exec")

    def endpoint(self):
        return "%s:%d" % self.addr

    def sk_exec(self, *cmd, opts=(), token=None, input=None, timeout=60):
        args = [SK_BIN, "exec", self.endpoint(), "--token-file", token or self.token, *opts,
                "--", *cmd]
        return subprocess.run(args, input=input, capture_output=True, timeout=timeout)

    def assert_marker_absent(self):
        time.sleep(0.2)  # a command that slipped through would have run by now
        self.assertFalse(os.path.exists(self.marker), "the marker command ran")


class StatusTests(ExecCase):
    def test_echo_hi(self):
        r = self.sk_exec("echo", "hi")
        self.assertEqual((r.returncode, r.stdout), (0, b"hi\n"), r.stderr)

    def test_false_exits_1(self):
        self.assertEqual(self.sk_exec("false").returncode, 1)

    def test_killed_by_signal_is_128_plus(self):
        r = self.sk_exec("sh", "-c", "kill -9 $$")
        self.assertEqual(r.returncode, 137, r.stderr)

    def test_stdout_and_stderr_apart(self):
        r = self.sk_exec("sh", "-c", "echo out; echo err >&2; exit 3")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (3, b"out\n", b"err\n"))

    def test_not_found_is_127(self):
        r = self.sk_exec("sk-no-such-command")
        self.assertEqual(r.returncode, 127)
        self.assertIn(b"command not found", r.stderr)

    def test_cwd(self):
        r = self.sk_exec("pwd", opts=("--cwd", self.dir))
        self.assertEqual(r.stdout.decode().strip(), os.path.realpath(self.dir))
        r = self.sk_exec("pwd", opts=("--cwd", os.path.join(self.dir, "nowhere")))
        self.assertEqual(r.returncode, 126)

    def test_audit_log(self):
        r = self.sk_exec("cat", input=b"12345")
        self.assertEqual(r.stdout, b"12345")
        self.sk_exec("sh", "-c", "exit 7")
        log = wait_for(lambda: "exit 7" in self.server.log() and self.server.log())
        self.assertRegex(log, r"exec 127\.0\.0\.1:\d+: cat: exit 0, \d+\.\d{3} s, "
                              r"5 bytes in, 5 bytes out")
        self.assertRegex(log, r"exec 127\.0\.0\.1:\d+: sh -c 'exit 7': exit 7, \d+\.\d{3} s, "
                              r"0 bytes in, 0 bytes out")


class AuthTests(ExecCase):
    def test_right_answer_by_hand(self):
        sock, nonce = open_session(self.addr)
        with sock:
            cn = os.urandom(32)
            sock.sendall(frame(bytes([AUTH]) + cn + answer(TOKEN, nonce, cn)))
            self.assertEqual(recv_frame(sock), bytes([READY]))
            sock.sendall(request(["echo", "by hand"]))
            self.assertEqual(recv_frame(sock)[0], STARTED)
            self.assertEqual(recv_frame(sock), bytes([STDOUT]) + b"by hand\n")
            self.assertEqual(recv_frame(sock), bytes([EXIT, 0, 0, 0]))

    def test_wrong_token_refused(self):
        other = write_token(os.path.join(self.dir, "other"), b"not-the-right-token-at-all\n")
        r = self.sk_exec("touch", self.marker, token=other)
        self.assertEqual(r.returncode, 255)
        self.assertIn(b"authentication failed", r.stderr)
        self.assert_marker_absent()
        self.assertIn("authentication failed", self.server.log())

    def test_missing_token_refused(self):
        r = self.sk_exec("touch", self.marker, token=os.path.join(self.dir, "none"))
        self.assertEqual(r.returncode, 255)
        # a client that skips the answer and sends a request at once
        sock, _ = open_session(self.addr)
        with sock:
            sock.sendall(request(["touch", self.marker]))
            reply = recv_frame(sock)
            self.assertEqual(reply[:2], bytes([ERROR, 1]))
            self.assertIsNone(recv_frame(sock))  # closed
        self.assert_marker_absent()

    def test_replayed_answer_refused(self):
        sock, nonce = open_session(self.addr)
        cn = os.urandom(32)
        recorded = frame(bytes([AUTH]) + cn + answer(TOKEN, nonce, cn))
        with sock:
            sock.sendall(recorded)
            self.assertEqual(recv_frame(sock), bytes([READY]))
            sock.sendall(request(["true"]))
            self.assertEqual(recv_frame(sock)[0], STARTED)
        # an eavesdropper replays the same bytes on a new connection
        sock, nonce2 = open_session(self.addr)
        self.assertNotEqual(nonce, nonce2)
        with sock:
            sock.sendall(recorded + request(["touch", self.marker]))
            self.assertEqual(recv_frame(sock)[:2], bytes([ERROR, 1]))
            self.assertIsNone(recv_frame(sock))
        self.assert_marker_absent()

    def test_failures_rate_limited(self):
        other = write_token(os.path.join(self.dir, "other"), b"guessing-the-token-0000\n")
        for _ in range(5):
            self.assertEqual(self.sk_exec("true", token=other).returncode, 255)
        # now even the right token is refused from this address
        r = self.sk_exec("touch", self.marker)
        self.assertEqual(r.returncode, 255)
        self.assertIn(b"authentication failed", r.stderr)
        self.assert_marker_absent()
        self.assertIn("too many authentication failures", self.server.log())

    def test_silent_client_dropped(self):
        sock, _ = open_session(self.addr)
        with sock:
            sock.settimeout(20)
            start = time.monotonic()
            self.assertIsNone(recv_frame(sock))  # closed by the handshake deadline
            self.assertLess(time.monotonic() - start, 15)

    def test_no_large_frame_before_auth(self):
        sock, _ = open_session(self.addr)
        with sock:
            sock.sendall(struct.pack(">I", 4097))  # announces 4 KiB + 1
            reply = recv_frame(sock)  # refused without waiting for the payload
            self.assertEqual(reply[:2], bytes([ERROR, 1]))
            self.assertIsNone(recv_frame(sock))


class AllowTests(ExecCase):
    server_args = ("--exec-allow", "echo", "--exec-allow", "/bin/true")

    def test_allowed_commands_run(self):
        self.assertEqual(self.sk_exec("echo", "ok").stdout, b"ok\n")
        self.assertEqual(self.sk_exec("/bin/true").returncode, 0)

    def test_other_commands_refused(self):
        r = self.sk_exec("touch", self.marker)
        self.assertEqual(r.returncode, 126)
        self.assertIn(b"not allowed", r.stderr)
        self.assertEqual(self.sk_exec("true").returncode, 126)  # only /bin/true is
        self.assert_marker_absent()
        self.assertIn("refused (not in --exec-allow)", self.server.log())

    def test_environment_restricted(self):
        r = self.sk_exec("echo", "x", opts=("--env", "PATH=%s" % self.dir))
        self.assertEqual(r.returncode, 126)
        r = self.sk_exec("echo", "x", opts=("--env", "LANG=C"))
        self.assertEqual(r.returncode, 0)


class ShellTests(ExecCase):
    def test_no_shell_by_default(self):
        r = self.sk_exec("echo hi; touch %s" % self.marker)
        self.assertEqual(r.returncode, 127)
        self.assert_marker_absent()
        r = self.sk_exec("echo", "a;b", "$HOME", "`id`")
        self.assertEqual(r.stdout, b"a;b $HOME `id`\n")

    def test_with_exec_shell(self):
        self.server = self.start_server("--exec-shell")
        r = self.sk_exec("echo hi; touch %s" % self.marker)
        self.assertEqual((r.returncode, r.stdout), (0, b"hi\n"), r.stderr)
        self.assertTrue(os.path.exists(self.marker))
        self.assertEqual(self.sk_exec("echo", "$((1+2))").stdout, b"3\n")  # joined, as ssh


class ChildTests(ExecCase):
    def test_only_fds_012(self):
        r = self.sk_exec("ls", "/proc/self/fd")
        fds = set(r.stdout.decode().split())
        self.assertTrue({"0", "1", "2"} <= fds <= {"0", "1", "2", "3"}, fds)

    def test_environment_scrubbed(self):
        self.server = self.start_server(env={"SK_TEST_SECRET": "hunter2"})
        r = self.sk_exec("env", opts=("--env", "FOO=bar"))
        env = dict(line.split("=", 1) for line in r.stdout.decode().splitlines())
        self.assertNotIn("SK_TEST_SECRET", env)
        self.assertEqual(env["PATH"], "/usr/local/bin:/usr/bin:/bin")
        self.assertEqual(env["FOO"], "bar")
        self.assertLessEqual(set(env), {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ",
                                        "FOO", "PWD"} | {k for k in env if k.startswith("LC_")})
        r = self.sk_exec("env", opts=("--env", "LD_PRELOAD=/nonexistent.so"))
        self.assertEqual(r.returncode, 126)

    def test_own_process_group(self):
        r = self.sk_exec("sh", "-c", "echo $$; cut -d' ' -f5 /proc/$$/stat")
        pid, pgid = r.stdout.decode().split()
        self.assertEqual(pid, pgid)


class StreamTests(ExecCase):
    def test_cat_10_mib(self):
        data = os.urandom(10 << 20)
        r = self.sk_exec("cat", input=data, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout == data, "10 MiB came back different")

    def test_stdin_eof(self):
        r = self.sk_exec("wc", "-c", input=b"x" * 100000)
        self.assertEqual(r.stdout.strip(), b"100000")
        r = self.sk_exec("cat", opts=("-n",), input=b"ignored")
        self.assertEqual((r.returncode, r.stdout), (0, b""))

    def test_stdin_waits_for_a_slow_reader(self):
        # the command reads nothing for a second: the server's stdin queue
        # fills, the connection is paused, then everything arrives in order
        data = os.urandom(3 << 20)
        r = self.sk_exec("sh", "-c", "sleep 1; exec cat", input=data, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout == data, "stdin came through different")

    def test_command_that_ignores_stdin(self):
        r = self.sk_exec("true", input=os.urandom(4 << 20), timeout=60)
        self.assertEqual(r.returncode, 0)

    def test_one_gib_in_bounded_memory(self):
        self.sk_exec("head", "-c", "10M", "/dev/zero")  # warm up: threads, buffers
        pid = self.server.proc.pid
        base = proc_rss_bytes(pid)
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], proc_rss_bytes(pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        proc = subprocess.Popen([SK_BIN, "exec", self.endpoint(), "--token-file", self.token,
                                 "-n", "--", "head", "-c", "1G", "/dev/zero"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        total = 0
        try:
            fd = proc.stdout.fileno()
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                total += len(chunk)
            proc.wait(timeout=240)
        finally:
            done.set()
            sampler.join()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        self.assertEqual((proc.returncode, total), (0, 1 << 30))
        growth = peak[0] - base
        print("\nexec: 1 GiB streamed, server RSS %d KiB -> peak %d KiB (growth %d KiB)"
              % (base >> 10, peak[0] >> 10, growth >> 10))
        if not sanitized_build():
            self.assertLess(growth, 16 << 20)


class EndTests(ExecCase):
    def test_timeout_kills(self):
        start = time.monotonic()
        r = self.sk_exec("sleep", "100", opts=("--timeout", "1"), timeout=30)
        self.assertLess(time.monotonic() - start, 3)
        self.assertEqual(r.returncode, 124)
        self.assertIn(b"ran out of time", r.stderr)
        self.assertTrue(wait_for(lambda: "(timed out)" in self.server.log(), timeout=5))

    def test_killed_client_ends_the_process_group(self):
        client = subprocess.Popen([SK_BIN, "exec", self.endpoint(), "--token-file", self.token,
                                   "--", "sh", "-c", "sleep 100 & sleep 100; wait"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        try:
            leader = wait_for(lambda: proc_children(self.server.proc.pid), timeout=10)
            self.assertTrue(leader, "no command started")
            pgid = leader[0]
            self.assertTrue(wait_for(lambda: len(group_members(pgid)) >= 3, timeout=10),
                            group_members(pgid))
            sleeps = [p for p in group_members(pgid) if p != pgid]
            client.kill()
            client.wait(timeout=10)
            self.assertTrue(wait_for(lambda: not group_members(pgid), timeout=5),
                            "left running: %s" % group_members(pgid))
            self.assertFalse(any(pid_alive(p) for p in sleeps))
            self.assertTrue(wait_for(lambda: "(client gone)" in self.server.log(), timeout=5))
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
            for f in (client.stdin, client.stdout, client.stderr):
                f.close()

    def start_term_ignoring(self):
        """A client running a command that ignores SIGTERM; returns (client,
        the command's pid = its process group)."""
        client = subprocess.Popen([SK_BIN, "exec", self.endpoint(), "--token-file", self.token,
                                   "--", "sh", "-c", "trap '' TERM; echo $$; exec sleep 100"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        line = client.stdout.readline()
        self.assertTrue(line.strip().isdigit(), line)
        return client, int(line)

    def close_client(self, client):
        if client.poll() is None:
            client.kill()
            client.wait()
        for f in (client.stdin, client.stdout, client.stderr):
            f.close()

    def test_command_ignoring_sigterm_does_not_hold_other_clients(self):
        # The gone client's command sits in its 2 s grace period (it ignores
        # SIGTERM) while other clients are served at once; SIGKILL ends it.
        client, pgid = self.start_term_ignoring()
        try:
            client.kill()
            client.wait(timeout=10)
            time.sleep(0.2)  # the server has seen the close and sent SIGTERM
            start = time.monotonic()
            r = self.sk_exec("echo", "hi", timeout=30)
            took = time.monotonic() - start
            self.assertEqual((r.returncode, r.stdout), (0, b"hi\n"), r.stderr)
            self.assertLess(took, 1.0, "served only after the other command's grace period")
            self.assertTrue(group_members(pgid), "ended before its grace period")
            self.assertTrue(wait_for(lambda: not group_members(pgid), timeout=10),
                            "left running: %s" % group_members(pgid))
            self.assertTrue(wait_for(lambda: "(client gone)" in self.server.log(), timeout=5))
        finally:
            self.close_client(client)

    def test_server_stop_waits_for_ending_commands(self):
        # SIGTERM to the server while a gone client's command ignores
        # SIGTERM: the server still SIGKILLs it before it exits.
        client, pgid = self.start_term_ignoring()
        try:
            client.kill()
            client.wait(timeout=10)
            time.sleep(0.2)
            self.server.signal(signal.SIGTERM)
            self.server.wait(timeout=20)
            self.assertFalse(group_members(pgid), "left running: %s" % group_members(pgid))
        finally:
            self.close_client(client)

    def test_server_stop_ends_commands(self):
        client = subprocess.Popen([SK_BIN, "exec", self.endpoint(), "--token-file", self.token,
                                   "-n", "--", "sleep", "100"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            leader = wait_for(lambda: proc_children(self.server.proc.pid), timeout=10)
            self.assertTrue(leader)
            self.server.signal(signal.SIGTERM)
            self.server.wait(timeout=20)
            self.assertFalse(pid_alive(leader[0]))
            client.wait(timeout=10)
            self.assertEqual(client.returncode, 255)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
            client.stdout.close()
            client.stderr.close()


class ForkEndTests(ExecCase):
    """The fork model: the connection's process ends its commands (SIGKILL
    after the grace period) before it exits."""
    model = "fork"

    start_term_ignoring = EndTests.start_term_ignoring
    close_client = EndTests.close_client

    def test_command_ignoring_sigterm_is_killed_after_the_grace_period(self):
        client, pgid = self.start_term_ignoring()
        try:
            client.kill()
            client.wait(timeout=10)
            self.assertTrue(wait_for(lambda: not group_members(pgid), timeout=10),
                            "left running: %s" % group_members(pgid))
            r = self.sk_exec("echo", "hi", timeout=30)
            self.assertEqual((r.returncode, r.stdout), (0, b"hi\n"), r.stderr)
        finally:
            self.close_client(client)


class StartupTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sk-exec-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.dir])
        self.token = write_token(os.path.join(self.dir, "token"))

    def serve(self, *args):
        return subprocess.run([SK_BIN, "serve", *args], capture_output=True, timeout=20,
                              stdin=subprocess.DEVNULL)

    def test_refuses_wildcard_without_allow_remote(self):
        r = self.serve("exec=tcp:0.0.0.0:0", "--exec-token-file", self.token)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--exec-allow-remote", r.stderr)
        r = self.serve("exec=tcp::0", "--exec-token-file", self.token)
        self.assertEqual(r.returncode, 2)

    def test_refuses_open_token_file(self):
        for mode in (0o640, 0o604, 0o644):
            os.chmod(self.token, mode)
            r = self.serve("exec=tcp:127.0.0.1:0", "--exec-token-file", self.token)
            self.assertEqual(r.returncode, 2)
            self.assertIn(b"chmod 600", r.stderr)

    def test_refuses_short_or_missing_token(self):
        short = write_token(os.path.join(self.dir, "short"), b"0123456789abcde\n")
        r = self.serve("exec=tcp:127.0.0.1:0", "--exec-token-file", short)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"at least 16", r.stderr)
        r = self.serve("exec=tcp:127.0.0.1:0")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--exec-token-file", r.stderr)

    def test_refuses_shell_with_allow_list(self):
        r = self.serve("exec=tcp:127.0.0.1:0", "--exec-token-file", self.token,
                       "--exec-shell", "--exec-allow", "ls")
        self.assertEqual(r.returncode, 2)

    def test_unix_endpoint_is_local(self):
        path = os.path.join(self.dir, "exec.sock")
        with Server("exec=unix:" + path, "--exec-token-file", self.token, expect=1) as srv:
            self.assertEqual(srv.addr("exec", "unix"), path)
            r = subprocess.run([SK_BIN, "exec", "unix:" + path, "--token-file", self.token,
                                "--", "echo", "over unix"], capture_output=True, timeout=30)
            self.assertEqual(r.stdout, b"over unix\n", r.stderr)


class ModelTests(unittest.TestCase):
    """The basics under the other concurrency models."""

    MODELS = ("thread", "reactors", "poll", "select", "pool", "fork", "prefork", "iterative",
              "uring")

    def test_models(self):
        tmp = tempfile.mkdtemp(prefix="sk-exec-")
        self.addCleanup(subprocess.run, ["rm", "-rf", tmp])
        token = write_token(os.path.join(tmp, "token"))
        data = os.urandom(3 << 20)
        for model in self.MODELS:
            with self.subTest(model=model):
                try:
                    srv = Server("exec=tcp:127.0.0.1:0", "--model", model, "--exec-token-file",
                                 token, expect=1)
                except ModelUnavailable:
                    continue  # no io_uring here
                with srv:
                    self.check_model(srv, token, data)

    def check_model(self, srv, token, data):
        ep = "%s:%d" % srv.addr("exec")

        def run(*cmd, input=None, opts=()):
            return subprocess.run([SK_BIN, "exec", ep, "--token-file", token, *opts, "--", *cmd],
                                  input=input, capture_output=True, timeout=60)
        r = run("echo", "hi")
        self.assertEqual((r.returncode, r.stdout), (0, b"hi\n"), r.stderr)
        self.assertEqual(run("sh", "-c", "kill -9 $$").returncode, 137)
        r = run("cat", input=data)
        self.assertTrue(r.stdout == data, "cat returned %d bytes" % len(r.stdout))
        start = time.monotonic()
        self.assertEqual(run("sleep", "100", opts=("--timeout", "1")).returncode, 124)
        self.assertLess(time.monotonic() - start, 5)


if __name__ == "__main__":
    unittest.main()
