"""sk serve chat under the models that share rooms between threads (epoll,
reactors, thread, uring): real peers (seed-style python3 sockets and
ncat) in rooms; private lines; nicks unique regardless of case; the 4 KiB
line limit; UTF-8 repair; flood control; /quit; and a client that stops
reading is disconnected while 50 others keep receiving every line in
order. SK_TEST_MODELS=a,b limits the models run. Every wait is bounded."""
import os
import re
import selectors
import shutil
import socket
import subprocess
import time
import unittest

from skharness import ModelUnavailable, Server

ALL_MODELS = ["epoll", "reactors", "thread", "uring"]
# The chat runs on these models (issue 5); SK_TEST_MODELS may narrow them.
MODELS = [m for m in os.environ.get("SK_TEST_MODELS", ",".join(ALL_MODELS)).split(",")
          if m in ALL_MODELS]
WAIT = 10  # seconds for any one expected line
STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")
NEEDS_WAKE = "! chat needs a model with sk_conn_wake"


def body(line):
    """A server line without its time stamp."""
    return STAMP.sub("", line)


class Peer:
    """A chat client: lines out, lines in (time stamps kept), bounded waits."""

    def __init__(self):
        self.buf = b""
        self.lines = []   # complete lines not yet taken
        self.eof = False

    def _read(self, timeout):  # bytes, b"" at EOF, None when nothing came in time
        raise NotImplementedError

    def feed(self, data):
        if not data:
            self.eof = True
            return
        self.buf += data
        *done, self.buf = self.buf.split(b"\n")
        self.lines.extend(d.decode("utf-8") for d in done)  # the server sends valid UTF-8

    def line(self, timeout=WAIT):
        """The next line (without "\\n"), or None at EOF or after timeout."""
        deadline = time.monotonic() + timeout
        while not self.lines and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            data = self._read(left)
            if data is not None:
                self.feed(data)
        return self.lines.pop(0) if self.lines else None

    def expect(self, pattern, timeout=WAIT):
        """Lines up to and including the first whose body matches pattern (a
        regex); fails with what came instead."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError("no line matching %r; got %r" % (pattern, seen))
            seen.append(line)
            if re.search(pattern, body(line)):
                return seen

    def expect_all(self, *patterns, timeout=WAIT):
        """Lines until each pattern has matched one, in any order."""
        left, seen = list(patterns), []
        deadline = time.monotonic() + timeout
        while left:
            line = self.line(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError("no lines matching %r; got %r" % (left, seen))
            seen.append(line)
            left = [p for p in left if not re.search(p, body(line))]
        return seen

    def sync(self):
        """Every line the server queued for this client so far (a /rooms
        round trip: lines for a client arrive in the order they were queued)."""
        self.say("/rooms")
        return [body(x) for x in self.expect(r"^\* rooms: ")[:-1]]


class SocketPeer(Peer):
    """The seeds' client: a plain python3 socket."""

    def __init__(self, addr, rcvbuf=None):
        super().__init__()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(WAIT)
        self.sock.connect(addr)

    def _read(self, timeout):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return b""

    def send(self, data):
        self.sock.settimeout(WAIT)
        self.sock.sendall(data)

    def say(self, text):
        self.send(text.encode() + b"\n")

    def close(self):
        self.sock.close()


class NcatPeer(Peer):
    """ncat as a chat client: its stdin and stdout."""

    def __init__(self, addr):
        super().__init__()
        self.proc = subprocess.Popen(["ncat", addr[0], str(addr[1])], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)

    def _read(self, timeout):
        if not self.sel.select(timeout):
            return None
        return os.read(self.proc.stdout.fileno(), 65536)

    def say(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def close(self):
        self.sel.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=WAIT)
        self.proc.stdin.close()
        self.proc.stdout.close()


class ChatSuite:
    """Mixed into one TestCase per model (see the bottom of the file)."""
    model = None

    def serve(self, *options):
        try:
            server = Server("chat=tcp:127.0.0.1:0", "--model", self.model, *options, expect=1)
        except ModelUnavailable as e:
            self.skipTest("%s unavailable: %s" % (self.model, e))
        self.addCleanup(server.__exit__, None, None, None)
        return server.addr("chat")

    def setUp(self):
        self.addr = self.serve("--chat-rate", "0")

    def join(self, peer, nick=None):
        """Greeted (in the lobby), then renamed to nick."""
        self.addCleanup(peer.close)
        greeting = peer.line()
        self.assertIsNotNone(greeting, "no greeting")
        if greeting.startswith(NEEDS_WAKE):
            self.skipTest("model %s: %s" % (self.model, greeting))
        m = re.match(r"^\* welcome to sk chat, you are (guest\d+) in lobby "
                     r"\(/help for commands\)$", greeting)
        self.assertTrue(m, greeting)
        if nick:
            peer.say("/nick " + nick)
            peer.expect(r"^\* %s is now known as %s$" % (m.group(1), nick))
        return peer

    def client(self, nick=None, **kw):
        return self.join(SocketPeer(self.addr, **kw), nick)

    def test_room_exchange_python_and_ncat(self):
        if not shutil.which("ncat"):
            self.skipTest("ncat not installed")
        ann, bob = self.client("ann"), self.client("bob")
        cat = self.join(NcatPeer(self.addr), "cat")
        eve = self.client("eve")
        eve.say("/join elsewhere")
        eve.expect(r"^\* eve joined elsewhere$")
        ann.say("hello from ann")
        cat.say("hello from ncat")
        for peer in (ann, bob, cat):  # everyone, the sender included
            peer.expect_all(r"^<ann> hello from ann$", r"^<cat> hello from ncat$")
        got = eve.sync()
        self.assertFalse([x for x in got if "hello" in x], got)
        bob.say("/who")
        self.assertEqual(body(bob.expect(r"^\* in lobby: ")[-1]), "* in lobby: ann, bob, cat")
        eve.say("/rooms")
        self.assertEqual(body(eve.expect(r"^\* rooms: ")[-1]), "* rooms: lobby (3), elsewhere (1)")

    def test_line_format_and_join_notices(self):
        ann = self.client("ann")
        bob = self.client()
        self.assertRegex(ann.expect(r"^\* guest\d+ joined lobby$")[-1],
                         r"^\[\d\d:\d\d:\d\d\] \* guest\d+ joined lobby$")
        bob.say("/nick bob")
        bob.say("/me waves")
        bob.say("//slash")
        for peer in (ann, bob):
            peer.expect(r"^\* bob waves$")
            stamped = peer.expect(r"^<bob> /slash$")[-1]
            self.assertRegex(stamped, r"^\[\d\d:\d\d:\d\d\] <bob> /slash$")

    def test_private_message_reaches_only_its_target(self):
        ann, bob, cid = self.client("ann"), self.client("bob"), self.client("cid")
        ann.say("/msg BOB between us")
        self.assertRegex(bob.expect(r"\(private\)")[-1],
                         r"^\[\d\d:\d\d:\d\d\] <ann> \(private\) between us$")
        self.assertRegex(ann.expect(r"^-> ")[-1], r"^\[\d\d:\d\d:\d\d\] -> bob: between us$")
        got = cid.sync()
        self.assertFalse([x for x in got if "between us" in x], got)
        ann.say("/msg nobody hello")
        ann.expect(r"^! no such nick: nobody$")

    def test_nick_unique_regardless_of_case_and_change_announced(self):
        ann, other = self.client("Bob"), self.client()
        other.say("/nick bOB")
        other.expect(r'^! nick "bOB" is taken$')
        other.say("/nick carol")
        ann.expect(r"^\* guest\d+ is now known as carol$")
        other.expect(r"^\* guest\d+ is now known as carol$")
        other.say("/nick -bad")
        other.expect(r'^! invalid nick "-bad"')
        ann.say("/nick BOB")  # its own nick in another case
        other.expect(r"^\* Bob is now known as BOB$")

    def test_long_line_refused_connection_kept(self):
        ann = self.client("ann")
        ann.send(b"x" * 10240 + b"\n")
        ann.expect(r"^! line too long \(max 4096 bytes\); rest discarded$")
        ann.say("still here")
        got = ann.expect(r"^<ann> still here$")
        self.assertFalse([x for x in got if "xxxx" in x], got)
        ann.send(b"y" * 4096 + b"\r\n")  # exactly the limit is fine
        ann.expect(r"^<ann> y{4096}$")

    def test_invalid_utf8_replaced(self):
        ann, bob = self.client("ann"), self.client("bob")
        raw = b"caf\xe9 \xff\xfe ok \xe6\x97\xa5\xe6\x9c \xf0\x9f\x98\x80"
        ann.send(raw + b"\n")
        want = "<ann> " + raw.decode("utf-8", "replace")
        self.assertIn("\ufffd", want)
        self.assertEqual(body(bob.expect(r"^<ann> caf")[-1]), want)

    def test_quit(self):
        ann, bob = self.client("ann"), self.client("bob")
        ann.say("/quit")
        self.assertEqual(ann.expect(r"^\* bye$")[-1], "* bye")
        self.assertIsNone(ann.line(WAIT))  # then the server closes
        self.assertTrue(ann.eof)
        bob.expect(r"^\* ann left lobby$")
        bob.say("/who")
        self.assertEqual(body(bob.expect(r"^\* in lobby")[-1]), "* in lobby: bob")

    def test_flood_control(self):
        self.addr = self.serve("--chat-rate", "5/5")
        ann = self.client()  # the rename would take a token
        ann.send(b"".join(b"flood %d\n" % i for i in range(20)))
        got = [body(x) for x in ann.expect(r"^! slow down: at most 5 lines per second$")]
        time.sleep(1.2)  # tokens come back at 5 a second: /rooms may go
        got += ann.sync()
        said = [x for x in got if x.startswith("<") and "> flood " in x]
        self.assertGreaterEqual(len(said), 5)
        self.assertLess(len(said), 10)
        self.assertEqual(said, ["<%s> flood %d" % (said[0][1:].split(">")[0], i)
                                for i in range(len(said))])
        self.assertEqual(len([x for x in got if x.startswith("! slow down")]), 1)
        ann.say("after a pause")
        ann.expect(r"> after a pause$")

    def test_paused_reader_catches_up_in_order(self):
        # Its queue grows past the low-water mark (its mailbox then waits
        # for on_drain) but stays under --chat-queue: nothing is lost.
        self.addr = self.serve("--chat-rate", "0", "--chat-queue", "32M")
        lazy = self.client("lazy", rcvbuf=4096)
        talker = self.client("talker")
        lazy.sync()
        pad = "q" * 1000
        lines = 8000  # 8 MB: more than the kernel's socket buffers hold
        for start in range(0, lines, 100):
            talker.send("".join("n%d %s\n" % (i, pad) for i in range(start, start + 100))
                        .encode())
            talker.expect(r"^<talker> n%d " % (start + 99), timeout=30)
        nums = []
        deadline = time.monotonic() + 60
        while len(nums) < lines and time.monotonic() < deadline:
            line = lazy.line(max(0.0, deadline - time.monotonic()))
            self.assertIsNotNone(line, "stopped after %d lines" % len(nums))
            m = re.match(r"^<talker> n(\d+) q+$", body(line))
            if m:
                nums.append(int(m.group(1)))
        self.assertEqual(nums, list(range(lines)))

    def test_stopped_reader_disconnected_others_get_everything_in_order(self):
        self.addr = self.serve("--chat-rate", "0", "--chat-queue", "256K")
        slow = self.client("slow", rcvbuf=4096)
        readers = [self.client() for _ in range(50)]
        talker = self.client("talker")
        peers = readers + [talker]
        for p in peers:
            p.sync()  # the join notices are out of the way
        seen = {id(p): [] for p in peers}
        told = []
        sel = selectors.DefaultSelector()
        for p in peers:
            p.sock.setblocking(False)
            sel.register(p.sock, selectors.EVENT_READ, p)

        def pump(want, timeout=30):
            """Read every peer until each has line number want-1 (bounded)."""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if all(len(seen[id(p)]) >= want for p in peers):
                    return
                for key, _ in sel.select(0.5):
                    p = key.data
                    try:
                        p.feed(p.sock.recv(1 << 20))
                    except BlockingIOError:
                        continue
                    for line in p.lines:
                        m = re.match(r"^<talker> n(\d+) ", body(line))
                        if m:
                            seen[id(p)].append(int(m.group(1)))
                        elif "slow was disconnected (too slow)" in line:
                            told.append(p)
                        self.assertFalse(line.startswith("!"), line)
                    p.lines.clear()
                    self.assertFalse(p.eof, "a reader was disconnected")
            self.fail("readers did not catch up with line %d" % want)

        pad = "p" * 1000
        n, batch = 0, 25
        while not told and n < 20000:  # at most ~20 MB into the room
            talker.send("".join("n%d %s\n" % (n + i, pad) for i in range(batch)).encode())
            n += batch
            pump(n)
        self.assertTrue(told, "the reader that stopped was never disconnected")
        for _ in range(4):  # the room goes on
            talker.send("".join("n%d %s\n" % (n + i, pad) for i in range(batch)).encode())
            n += batch
            pump(n)
        for p in peers:
            self.assertEqual(seen[id(p)], list(range(n)))
        self.assertEqual(len(told), len(peers))  # each told once
        talker.say("/who")
        while True:
            line = talker.line()
            self.assertIsNotNone(line)
            if body(line).startswith("* in lobby: "):
                break
        self.assertNotIn("slow", body(line).split(": ", 1)[1].split(", "))
        # It gets what was queued before, in order, then the notice, then EOF.
        slow.sock.setblocking(True)
        got = []
        while True:
            line = slow.line(WAIT)
            if line is None:
                break
            got.append(line)
        self.assertTrue(slow.eof, "still connected after %d lines" % len(got))
        self.assertEqual(got[-1], "! disconnected: output queue full (you stopped reading)")
        nums = [int(m.group(1)) for m in (re.match(r"^<talker> n(\d+) ", body(x)) for x in got)
                if m]
        self.assertEqual(nums, list(range(len(nums))))
        self.assertLess(len(nums), n)


for _model in MODELS:
    _name = "ChatOn" + _model.capitalize()
    globals()[_name] = type(_name, (ChatSuite, unittest.TestCase), {"model": _model})

if __name__ == "__main__":
    unittest.main()
