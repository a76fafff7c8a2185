"""sk chat, the chat client, against `sk serve chat`: on a terminal (inside
a detached tmux session of fixed size, driven with send-keys and read with
capture-pane) a message arriving while a line is half typed prints above
it and the half-typed line stays intact; plain line mode when stdin is a
pipe; --nick; exit statuses (connection refused, usage). Every wait is
bounded."""
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from skharness import SK_BIN, Server, run_sk, wait_for

WAIT = 10  # seconds for anything expected to happen
STAMP = r"\[\d\d:\d\d:\d\d\] "
WIDTH, HEIGHT = 60, 20


class Peer:
    """A seed-style python3 client of the chat server: lines in and out."""

    def __init__(self, addr):
        self.sock = socket.create_connection(addr, timeout=WAIT)
        self.buf = b""

    def say(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def wait_line(self, pattern, timeout=WAIT):
        """The first line (read from now on) matching the regex, or None."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, _, self.buf = self.buf.partition(b"\n")
                text = line.decode(errors="replace").rstrip("\r")
                if re.search(pattern, text):
                    return text
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def close(self):
        self.sock.close()


def start_server(testcase):
    srv = Server("chat=tcp:127.0.0.1:0", "--model", "epoll", "-q")
    testcase.addCleanup(srv.__exit__, None, None, None)
    return srv.addr("chat")


def stop(proc):
    """Kill a client still running, reap it, close its pipes."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=WAIT)


@unittest.skipUnless(shutil.which("tmux"), "tmux is not installed")
class TerminalTest(unittest.TestCase):
    """sk chat on a real terminal: a tmux pane WIDTH x HEIGHT."""

    def setUp(self):
        self.addr = start_server(self)
        # a tmux server of its own for each test: a server being killed by
        # the previous test's cleanup may still hold a shared socket name
        self.socket_name = "sk-chat-test-%d-%s" % (os.getpid(), self._testMethodName)
        self.addCleanup(self.tmux, "kill-server")
        self.tmpdir = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmpdir.cleanup)
        self.peer = Peer(self.addr)
        self.addCleanup(self.peer.close)
        self.assertIsNotNone(self.peer.wait_line(r"^\* welcome"))

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket_name, *args], capture_output=True,
                              text=True, timeout=WAIT)

    def start_client(self, *args):
        cmd = " ".join(shlex.quote(a) for a in [SK_BIN, "chat", "%s:%d" % self.addr, *args])
        # sk's exit status goes to a file (tmux itself may report a pane dead
        # before it has reaped the process)
        self.status_file = os.path.join(self.tmpdir.name, "status")
        shell = "%s; echo $? >%s.tmp && mv %s.tmp %s" % (
            cmd, self.status_file, self.status_file, self.status_file)
        r = self.tmux("new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT),
                      "-e", "TERM=xterm", "sh -c %s" % shlex.quote(shell))
        self.assertEqual(r.returncode, 0, r.stderr)

    def screen(self):
        return self.tmux("capture-pane", "-p").stdout.rstrip("\n").split("\n")

    def rows(self):
        """The non-empty rows of the screen, right-trimmed."""
        return [r.rstrip() for r in self.screen() if r.strip()]

    def cursor(self):
        x, y = self.tmux("display-message", "-p", "#{cursor_x} #{cursor_y}").stdout.split()
        return int(x), int(y)

    def wait_screen(self, predicate):
        return wait_for(lambda: predicate(self.rows()))

    def exit_status(self):
        """sk's exit status once it has exited, else None (bounded wait)."""
        def read_status():
            try:
                with open(self.status_file) as f:
                    return f.read().strip()
            except OSError:
                return None
        status = wait_for(read_status)
        return int(status) if status else None

    def type(self, text):
        self.tmux("send-keys", "-l", text)

    def test_message_prints_above_half_typed_line(self):
        self.start_client("--nick", "typer")
        self.assertTrue(self.wait_screen(lambda rows: rows and rows[-1] == ">"
                                         and any("is now known as typer" in r for r in rows)),
                        self.screen())
        self.assertIsNotNone(self.peer.wait_line(r"is now known as typer"))
        self.type("half a li")
        self.assertTrue(self.wait_screen(lambda rows: rows[-1] == "> half a li"), self.screen())
        self.peer.say("hello from the peer")
        rows = self.wait_screen(
            lambda rows: len(rows) >= 2 and re.fullmatch(STAMP + r"<guest\d+> hello from the peer",
                                                          rows[-2]) and rows)
        self.assertTrue(rows, self.screen())
        self.assertEqual(rows[-1], "> half a li")  # intact, below the message
        self.assertEqual(self.cursor(), (len("> half a li"), len(rows) - 1))
        # the line is still being edited: finish it and send it
        self.type("ne")
        self.tmux("send-keys", "Enter")
        self.assertIsNotNone(self.peer.wait_line(STAMP + r"<typer> half a line$"))
        self.assertTrue(self.wait_screen(
            lambda rows: rows[-1] == ">" and any(re.fullmatch(STAMP + "<typer> half a line", r)
                                                 for r in rows)), self.screen())
        # Ctrl-D on the empty line ends the session, status 0
        self.tmux("send-keys", "C-d")
        self.assertEqual(self.exit_status(), 0, self.screen())

    def test_wrapped_line_stays_intact(self):
        self.start_client()
        self.assertTrue(self.wait_screen(lambda rows: rows and rows[-1] == ">"), self.screen())
        typed = "w" * (WIDTH + 10)  # wraps onto a second row
        self.type(typed)
        first = "> " + typed[:WIDTH - 2]
        second = typed[WIDTH - 2:]
        self.assertTrue(self.wait_screen(lambda rows: rows[-2:] == [first, second]), self.screen())
        for i in range(3):
            self.peer.say("message %d" % i)
        rows = self.wait_screen(lambda rows: any(r.endswith("message 2") for r in rows) and rows)
        self.assertTrue(rows, self.screen())
        self.assertEqual(rows[-2:], [first, second])
        for i in range(3):
            self.assertRegex(rows[-5 + i], STAMP + r"<guest\d+> message %d$" % i)
        self.assertEqual(self.cursor(), (len(second), len(rows) - 1))

    def test_quit_command(self):
        self.start_client()
        self.assertTrue(self.wait_screen(lambda rows: rows and rows[-1] == ">"), self.screen())
        self.type("/quit")
        self.tmux("send-keys", "Enter")
        self.assertEqual(self.exit_status(), 0, self.screen())


class LineModeTest(unittest.TestCase):
    """stdin not a terminal: scripts drive sk chat through pipes."""

    def setUp(self):
        self.addr = start_server(self)
        self.endpoint = "%s:%d" % self.addr

    def test_pipe_sends_lines_and_prints_the_room(self):
        peer = Peer(self.addr)
        self.addCleanup(peer.close)
        self.assertIsNotNone(peer.wait_line(r"^\* welcome"))
        # the last line has no LF: it is sent all the same
        r = run_sk("chat", self.endpoint, "--nick", "scripted", input=b"hello\nworld",
                   timeout=WAIT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNotNone(peer.wait_line(STAMP + r"<scripted> hello$"))
        self.assertIsNotNone(peer.wait_line(STAMP + r"<scripted> world$"))
        out = r.stdout.decode().splitlines()
        self.assertRegex(out[0], r"^\* welcome to sk chat, you are guest\d+ in lobby")
        self.assertTrue(any(re.fullmatch(STAMP + "<scripted> hello", ln) for ln in out), out)

    def test_pipe_prints_what_others_say(self):
        # The peer is in the room first, so it sees the client's /nick.
        peer = Peer(self.addr)
        self.addCleanup(peer.close)
        self.assertIsNotNone(peer.wait_line(r"^\* welcome"))
        proc = subprocess.Popen([SK_BIN, "chat", self.endpoint, "--nick", "listener"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(stop, proc)
        self.assertIsNotNone(peer.wait_line(r"is now known as listener"))
        peer.say("are you there?")
        self.assertIsNotNone(peer.wait_line(r"are you there"))
        # stdin ends (communicate closes it): sk lingers a moment, then exits
        out, err = proc.communicate(timeout=WAIT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertRegex(out.decode(), STAMP + r"<guest\d+> are you there\?\n")

    def test_quit_line_ends_the_session(self):
        proc = subprocess.Popen([SK_BIN, "chat", self.endpoint], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(stop, proc)
        self.addCleanup(proc.stdin.close)
        proc.stdin.write(b"/quit\n")
        proc.stdin.flush()
        # stdin stays open: the server closing is what ends the client
        self.assertEqual(proc.wait(timeout=WAIT), 0)
        out, err = proc.communicate(timeout=WAIT)
        self.assertEqual(err, b"")
        self.assertIn(b"welcome", out)


class ExitStatusTest(unittest.TestCase):
    def test_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nobody listens there now
        r = run_sk("chat", "127.0.0.1:%d" % port, input=b"", timeout=WAIT)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.decode(),
                         "sk: chat: 127.0.0.1:%d: Connection refused\n" % port)

    def test_usage_errors(self):
        for args in (["a:1", "b:2"], ["--nick"], ["--nick", "two words"], ["--bogus"],
                     ["udp:127.0.0.1:9"], ["nohost"]):
            r = run_sk("chat", *args, input=b"", timeout=WAIT)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.startswith(b"sk: chat: "), r.stderr)

    def test_help(self):
        r = run_sk("chat", "--help", timeout=WAIT)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"usage: sk chat", r.stdout)


if __name__ == "__main__":
    unittest.main()
