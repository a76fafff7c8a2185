"""sk send / sk get / sk ls against `sk serve file=...` (docs/protocol.md,
"File transfer"): byte-identical round trips, trees with links, both hashes,
resume after a killed client or server (verified offsets), a tampered
partial file, a peer reset, names a lying server sends, concurrency, the
progress line on a terminal, usage errors. Every wait is bounded."""
import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from skharness import SK_BIN, ModelUnavailable, Server, run_sk, wait_for  # noqa: E402

MiB = 1 << 20
CHUNK = 4 * MiB
STEP = 120          # seconds for any one sk command
RESUME_RE = re.compile(r"resuming (\S+) at (\d+) bytes")
# Models besides the default (epoll) that a short round trip goes through.
OTHER_MODELS = ("thread", "uring")


def write_random(path, size):
    """A file of size random bytes (distinct 4 MiB chunks)."""
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, MiB)
            f.write(os.urandom(n))
            left -= n


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def file_size(path):
    try:
        return os.lstat(path).st_size
    except OSError:
        return -1


def tree(root):
    """{relative path: ('dir',) | ('file', sha256) | ('link', target)},
    symbolic links not followed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = ("link", os.readlink(full))
            elif os.path.isdir(full):
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", sha256_file(full))
    return out


def sk_popen(*args):
    return subprocess.Popen([SK_BIN, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def sanitizer_report(stderr):
    """True when a sanitizer build of sk complained (its exit status may
    look like an ordinary failure)."""
    return b"Sanitizer" in stderr or b"runtime error:" in stderr


def finish(proc, timeout=STEP):
    """Wait (bounded) for a Popen'd sk; returns (status, stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
    assert not sanitizer_report(err), err.decode(errors="replace")
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


class FileTest(unittest.TestCase):
    """A temporary directory with a server root, and servers stopped at the end."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sk-file-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.root = self.path("root")
        self.out = self.path("out")
        os.makedirs(self.out)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def serve(self, model=None, root=None):
        """Start a file server (the default model unless given); returns
        (Server, "127.0.0.1:PORT")."""
        srv = Server("file=127.0.0.1:0", "--file-root", root or self.root,
                     *(["--model", model] if model else []), expect=1)
        self.addCleanup(srv.__exit__)
        host, port = srv.addr("file")
        return srv, "%s:%d" % (host, port)

    def sk(self, *args, ok=True):
        r = run_sk(*args, timeout=STEP)
        self.assertFalse(sanitizer_report(r.stderr), r.stderr.decode(errors="replace"))
        if ok:
            self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        return r

    def assertSameFile(self, a, b):
        self.assertEqual(os.path.getsize(a), os.path.getsize(b), b)
        self.assertEqual(sha256_file(a), sha256_file(b), b)


class RoundTrip(FileTest):
    def test_sizes_byte_identical(self):
        _, ep = self.serve()
        for size in (0, 1, 65535, MiB, 100 * MiB):
            with self.subTest(size=size):
                name = "f%d" % size
                src = self.path(name)
                write_random(src, size)
                self.sk("send", "-w", "60", src, ep)
                self.assertSameFile(src, os.path.join(self.root, name))
                self.sk("get", "-w", "60", ep, name, "-o", self.out)
                self.assertSameFile(src, os.path.join(self.out, name))
                self.assertFalse(os.path.exists(os.path.join(self.out, name + ".part")))

    def test_other_models(self):
        src = self.path("nine")
        write_random(src, 9 * MiB + 1)
        for model in OTHER_MODELS:
            with self.subTest(model=model):
                try:
                    _, ep = self.serve(model=model, root=self.path("root-" + model))
                except ModelUnavailable:
                    continue
                self.sk("send", "-w", "60", src, ep)
                self.assertSameFile(src, self.path("root-" + model, "nine"))
                out = self.path("out-" + model)
                self.sk("get", "-w", "60", ep, "nine", "-o", out)
                self.assertSameFile(src, os.path.join(out, "nine"))

    def test_both_hashes(self):
        _, ep = self.serve()
        src = self.path("nine")
        write_random(src, 9 * MiB + 7)
        for hash_name in ("xxh3-128", "sha256"):
            with self.subTest(hash=hash_name):
                self.sk("send", "--hash", hash_name, "-w", "60", src,
                        "%s:/%s" % (ep, hash_name))
                self.assertSameFile(src, os.path.join(self.root, hash_name, "nine"))
                out = self.path("out-" + hash_name)
                self.sk("get", "--hash", hash_name, "-w", "60", ep, hash_name + "/nine",
                        "-o", out)
                self.assertSameFile(src, os.path.join(out, "nine"))

    def test_ipv6_endpoint_and_remote_dir(self):
        srv = Server("file=[::1]:0", "--file-root", self.root, expect=1)
        self.addCleanup(srv.__exit__)
        _, port = srv.addr("file")
        src = self.path("six")
        write_random(src, 6000)
        self.sk("send", "-w", "30", src, "[::1]:%d:/x/y" % port)
        self.assertSameFile(src, os.path.join(self.root, "x", "y", "six"))

    def test_unix_endpoint_and_remote_dir(self):
        sock = self.path("file.sock")
        srv = Server("file=unix:" + sock, "--file-root", self.root, expect=1)
        self.addCleanup(srv.__exit__)
        src = self.path("seven")
        write_random(src, 7000)
        self.sk("send", "-w", "30", src, "unix:%s:/u" % sock)
        self.assertSameFile(src, os.path.join(self.root, "u", "seven"))
        self.sk("get", "-w", "30", "unix:" + sock, "u/seven", "-o", self.out)
        self.assertSameFile(src, os.path.join(self.out, "seven"))

    def test_a_missing_path_is_reported_and_the_rest_sent(self):
        _, ep = self.serve()
        src = self.path("here")
        write_random(src, 100)
        r = self.sk("send", "-w", "30", self.path("missing"), src, ep, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"missing: No such file or directory", r.stderr)
        self.assertSameFile(src, os.path.join(self.root, "here"))

    def test_exists_is_reported_in_words(self):
        _, ep = self.serve()
        src = self.path("twice")
        write_random(src, 1000)
        self.sk("send", "-w", "30", src, ep)
        r = self.sk("send", "-w", "30", src, ep, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"sk: send: twice", r.stderr)
        self.assertIn(b"exists", r.stderr)

    def test_missing_remote_name(self):
        _, ep = self.serve()
        r = self.sk("get", "-w", "30", ep, "nothere", "-o", self.out, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"sk: get: nothere", r.stderr)
        self.assertEqual(os.listdir(self.out), [])

    def test_connection_refused(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        src = self.path("x")
        write_random(src, 10)
        r = self.sk("send", "-w", "5", src, "127.0.0.1:%d" % port, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"sk: send: ", r.stderr)


class Trees(FileTest):
    def make_tree(self):
        top = self.path("src", "top")
        os.makedirs(os.path.join(top, "sub", "deeper"))
        os.makedirs(os.path.join(top, "empty"))
        with open(os.path.join(top, "a.txt"), "w") as f:
            f.write("hello\n")
        write_random(os.path.join(top, "sub", "b.bin"), 100000)
        write_random(os.path.join(top, "sub", "deeper", "c.bin"), 5 * MiB)
        os.symlink("sub/b.bin", os.path.join(top, "link"))
        os.symlink("../../outside/nowhere", os.path.join(top, "sub", "dangling"))
        os.symlink("/etc/passwd", os.path.join(top, "absolute"))
        return top

    def test_tree_round_trip_keeps_links(self):
        _, ep = self.serve()
        top = self.make_tree()
        self.sk("send", "-w", "60", top, ep + ":/backup")
        stored = os.path.join(self.root, "backup", "top")
        self.assertEqual(tree(top), tree(stored))
        self.assertTrue(os.path.islink(os.path.join(stored, "link")))
        self.assertEqual(os.readlink(os.path.join(stored, "absolute")), "/etc/passwd")
        self.sk("get", "-w", "60", ep, "backup/top", "-o", self.out)
        self.assertEqual(tree(top), tree(os.path.join(self.out, "top")))
        self.assertEqual(os.listdir(self.out), ["top"])

    def test_ls(self):
        _, ep = self.serve()
        top = self.make_tree()
        self.sk("send", "-w", "60", top, ep)
        out = self.sk("ls", "-w", "30", ep, "top").stdout.decode()
        lines = out.splitlines()
        self.assertTrue(any(l.startswith("-rw") and l.endswith(" top/a.txt") and " 6 " in l
                            for l in lines), out)
        self.assertTrue(any(l.startswith("l") and l.endswith("top/link -> sub/b.bin")
                            for l in lines), out)
        self.assertTrue(any(l.startswith("d") and l.endswith(" top/sub") for l in lines), out)
        self.assertNotIn("deeper", out)
        deep = self.sk("ls", "-r", "-w", "30", ep, "top").stdout.decode()
        self.assertIn("top/sub/deeper/c.bin", deep)
        self.assertIn(str(5 * MiB), deep)
        r = self.sk("ls", "-w", "30", ep, "nothere", ok=False)
        self.assertEqual(r.returncode, 1)


class Resume(FileTest):
    BIG = 200 * MiB

    def big_file(self):
        src = self.path("big")
        write_random(src, self.BIG)
        return src

    def interrupt_when(self, proc, part, at_least=3 * CHUNK, timeout=60):
        """Wait until part holds at_least bytes (or proc ends); True when the
        transfer was caught in the middle."""
        caught = wait_for(lambda: file_size(part) >= at_least or proc.poll() is not None,
                          timeout=timeout, step=0.002)
        return bool(caught) and proc.poll() is None

    def resumed_at(self, stderr, name="big"):
        m = [int(n) for who, n in RESUME_RE.findall(stderr) if who.endswith(name)]
        self.assertTrue(m, "no 'resuming' line in: " + stderr)
        return m[-1]

    def test_client_killed_then_resumes(self):
        srv, ep = self.serve()
        src = self.big_file()
        p = sk_popen("send", "-w", "60", src, ep)
        caught = self.interrupt_when(p, os.path.join(self.root, "big.part"))
        p.kill()
        finish(p)
        self.assertTrue(caught, "the upload ended before it could be interrupted")
        self.assertFalse(os.path.exists(os.path.join(self.root, "big")))
        # The server must have seen the connection end before the name is free.
        self.assertTrue(wait_for(lambda: "close file" in srv.log(), timeout=30))
        r = self.sk("send", "-v", "-w", "60", src, ep)
        offset = self.resumed_at(r.stderr.decode())
        self.assertGreater(offset, 0)
        self.assertEqual(offset % CHUNK, 0)
        self.assertSameFile(src, os.path.join(self.root, "big"))

    def test_server_killed_then_resumes(self):
        srv, ep = self.serve()
        src = self.big_file()
        p = sk_popen("send", "-w", "60", src, ep)
        caught = self.interrupt_when(p, os.path.join(self.root, "big.part"))
        srv.proc.kill()
        status, _, err = finish(p)
        self.assertTrue(caught, "the upload ended before it could be interrupted")
        self.assertEqual(status, 1, err)
        self.assertIn("sk: send: big: ", err)
        self.assertIn("partial kept for resume", err)
        self.assertFalse(os.path.exists(os.path.join(self.root, "big")))
        _, ep2 = self.serve()
        r = self.sk("send", "-v", "-w", "60", src, ep2)
        self.assertGreater(self.resumed_at(r.stderr.decode()), 0)
        self.assertSameFile(src, os.path.join(self.root, "big"))

    def test_get_peer_reset_then_resumes(self):
        srv, ep = self.serve()
        os.makedirs(self.root, exist_ok=True)
        src = os.path.join(self.root, "big")
        write_random(src, self.BIG)
        p = sk_popen("get", "-w", "60", ep, "big", "-o", self.out)
        part = os.path.join(self.out, "big.part")
        caught = self.interrupt_when(p, part)
        srv.proc.kill()
        status, _, err = finish(p)
        self.assertTrue(caught, "the download ended before it could be interrupted")
        self.assertEqual(status, 1, err)
        self.assertIn("sk: get: big: ", err)
        self.assertFalse(os.path.exists(os.path.join(self.out, "big")))
        self.assertTrue(os.path.exists(part))
        _, ep2 = self.serve()
        r = self.sk("get", "-v", "-w", "60", ep2, "big", "-o", self.out)
        self.assertGreater(self.resumed_at(r.stderr.decode()), 0)
        self.assertSameFile(src, os.path.join(self.out, "big"))
        self.assertFalse(os.path.exists(part))

    def partial(self, src, dst, length, flip_at=None):
        """dst = the first length bytes of src, one byte altered at flip_at."""
        with open(src, "rb") as f:
            data = bytearray(f.read(length))
        if flip_at is not None:
            data[flip_at] ^= 0xFF
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)

    def test_tampered_partial_upload_is_not_trusted(self):
        _, ep = self.serve()
        src = self.path("twenty")
        write_random(src, 20 * MiB + 123)
        cases = [(None, 3 * CHUNK), (CHUNK + 10, CHUNK), (5, 0)]
        for i, (flip_at, expected) in enumerate(cases):
            for hash_name in ("xxh3-128", "sha256"):
                with self.subTest(flip_at=flip_at, hash=hash_name):
                    name = "d%d-%s" % (i, hash_name)
                    self.partial(src, os.path.join(self.root, name, "twenty.part"),
                                 3 * CHUNK + 1000, flip_at)
                    r = self.sk("send", "-v", "--hash", hash_name, "-w", "60", src,
                                "%s:/%s" % (ep, name))
                    self.assertEqual(self.resumed_at(r.stderr.decode(), "twenty"), expected)
                    self.assertSameFile(src, os.path.join(self.root, name, "twenty"))

    def test_tampered_partial_download_is_not_trusted(self):
        _, ep = self.serve()
        os.makedirs(self.root, exist_ok=True)
        src = os.path.join(self.root, "twenty")
        write_random(src, 20 * MiB + 5)
        for flip_at, expected in ((None, 2 * CHUNK), (CHUNK + 1, CHUNK), (0, 0)):
            with self.subTest(flip_at=flip_at):
                out = self.path("out-%s" % flip_at)
                self.partial(src, os.path.join(out, "twenty.part"), 2 * CHUNK + 17, flip_at)
                r = self.sk("get", "-v", "-w", "60", ep, "twenty", "-o", out)
                self.assertEqual(self.resumed_at(r.stderr.decode(), "twenty"), expected)
                self.assertSameFile(src, os.path.join(out, "twenty"))

    def test_no_resume_starts_at_zero(self):
        _, ep = self.serve()
        src = self.path("ten")
        write_random(src, 10 * MiB)
        self.partial(src, os.path.join(self.root, "ten.part"), 2 * CHUNK)
        r = self.sk("send", "-v", "--no-resume", "-w", "60", src, ep)
        self.assertNotIn(b"resuming", r.stderr)
        self.assertSameFile(src, os.path.join(self.root, "ten"))


DRAIN = object()  # a FakeServer answer ending with DRAIN: then read and discard


class FakeServer:
    """A lying file server speaking the protocol with sha256: answers come
    from handler(request) -> list of frames (dicts) and raw bytes."""

    def __init__(self, handler):
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.requests = []
        self.stopping = threading.Event()
        self.drained = 0
        self.drain_done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @staticmethod
    def recv_exact(sock, n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def recv_msg(self, sock):
        header = self.recv_exact(sock, 4)
        if header is None:
            return None
        payload = self.recv_exact(sock, struct.unpack(">I", header)[0])
        return None if payload is None else json.loads(payload)

    @staticmethod
    def send(sock, items):
        for item in items:
            if isinstance(item, bytes):
                sock.sendall(item)
            else:
                payload = json.dumps(item).encode()
                sock.sendall(struct.pack(">I", len(payload)) + payload)

    def serve_one(self, conn):
        conn.settimeout(15)
        hello = self.recv_msg(conn)
        if not hello:
            return
        self.send(conn, [{"op": "hello", "version": 1, "hash": "sha256", "chunk": CHUNK,
                          "server": "fake"}])
        while True:
            req = self.recv_msg(conn)
            if req is None:
                return
            self.requests.append(req)
            answer = self.handler(req)
            if answer and answer[-1] is DRAIN:
                self.send(conn, answer[:-1])
                self.drain(conn)
                return
            self.send(conn, answer)

    def drain(self, conn):
        """Read slowly and discard until the client closes (bounded)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            data = conn.recv(65536)
            if not data:
                self.drain_done.set()
                return
            self.drained += len(data)
            time.sleep(0.005)

    def run(self):
        deadline = time.monotonic() + 60  # bounded, as is the number of sessions
        sessions = 0
        while sessions < 8 and not self.stopping.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sessions += 1
            with conn:
                try:
                    self.serve_one(conn)
                except (OSError, ValueError):
                    pass

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=10)
        self.listener.close()


def file_answer(name, data, digest=None):
    return [{"op": "file", "name": name, "size": len(data), "mode": 0o644, "mtime": 0,
             "offset": 0}, data,
            {"op": "end", "digest": digest or hashlib.sha256(data).hexdigest()}]


def error(code):
    return [{"op": "error", "code": code, "message": code}]


class LyingServer(FileTest):
    """The client applies the name rules to what a server sends and writes
    only under -o DIR."""

    def fake(self, handler):
        srv = FakeServer(handler)
        self.addCleanup(srv.close)
        return srv, "127.0.0.1:%d" % srv.port

    def get(self, ep, *names):
        return self.sk("get", "--hash", "sha256", "-w", "10", ep, *names, "-o", self.out,
                       ok=False)

    def assertNothingWritten(self, *outside):
        self.assertEqual(os.listdir(self.out), [])
        for p in outside:
            self.assertFalse(os.path.lexists(p), p)

    def test_get_answered_with_another_name(self):
        evil_abs = self.path("evil-abs")
        for answer in ("../evil", evil_abs, "b", "a/../a", "./a", ""):
            with self.subTest(answer=answer):
                _, ep = self.fake(lambda req, a=answer: file_answer(a, b"pwned"))
                r = self.get(ep, "a")
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(b"sk: get: a: ", r.stderr)
                self.assertNothingWritten(self.path("evil"), evil_abs)

    def listing(self, entries):
        def handler(req):
            if req["op"] == "get" and req["name"] == "d":
                return error("isdir")
            if req["op"] == "list":
                return [{"op": "list", "entries": entries}]
            if req["op"] == "get":
                return file_answer(req["name"], b"data")
            return error("protocol")
        return handler

    def test_list_with_escaping_or_foreign_names(self):
        d = {"name": "d", "type": "dir", "mode": 0o755, "mtime": 0}
        for bad in ("../x", "/x", "d/../../x", "e/x", "dx", "d//x"):
            with self.subTest(bad=bad):
                srv, ep = self.fake(self.listing([d, {"name": bad, "type": "file", "size": 4,
                                                      "mode": 0o644, "mtime": 0}]))
                r = self.get(ep, "d")
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertNothingWritten(self.path("x"), "/x")
                self.assertFalse([q for q in srv.requests if q["op"] == "get" and q["name"] != "d"])

    def test_link_leading_outside_is_not_written_through(self):
        outside = self.path("outside")
        os.makedirs(outside)
        entries = [{"name": "d", "type": "dir", "mode": 0o755, "mtime": 0},
                   {"name": "d/link", "type": "symlink", "target": outside, "mtime": 0},
                   {"name": "d/link/f", "type": "file", "size": 4, "mode": 0o644, "mtime": 0},
                   {"name": "d/up", "type": "symlink", "target": "../..", "mtime": 0},
                   {"name": "d/up/g", "type": "file", "size": 4, "mode": 0o644, "mtime": 0}]
        _, ep = self.fake(self.listing(entries))
        r = self.get(ep, "d")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(os.listdir(outside), [])
        self.assertFalse(os.path.lexists(self.path("g")))
        self.assertFalse(os.path.lexists(self.path("g.part")))

    def test_error_in_the_middle_of_an_upload_stops_it(self):
        def handler(req):
            if req["op"] == "put":
                return [{"op": "resume", "have": 0, "digests": []}]
            return [{"op": "error", "code": "nospace", "message": "disk full"}, DRAIN]
        srv, ep = self.fake(handler)
        src = self.path("big")
        size = 64 * MiB
        write_random(src, size)
        r = self.sk("send", "--hash", "sha256", "-w", "10", src, ep, ok=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        m = re.search(rb"sk: send: big: no space left on device after (\d+) of (\d+) bytes "
                      rb"\(partial kept for resume\)", r.stderr)
        self.assertTrue(m, r.stderr)
        self.assertEqual(int(m.group(2)), size)
        self.assertLess(int(m.group(1)), size)
        self.assertTrue(srv.drain_done.wait(timeout=30))
        self.assertLess(srv.drained, size)

    def test_wrong_digest_leaves_no_file(self):
        _, ep = self.fake(lambda req: file_answer("a", b"content", digest="0" * 64))
        r = self.get(ep, "a")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"digest", r.stderr)
        self.assertNothingWritten()


class Concurrency(FileTest):
    def test_twenty_uploads_to_epoll(self):
        _, ep = self.serve(model="epoll")
        srcs = []
        for i in range(20):
            srcs.append(self.path("c%02d" % i))
            write_random(srcs[-1], 3 * MiB + i)
        procs = [sk_popen("send", "-w", "60", s, ep) for s in srcs]
        results = [finish(p) for p in procs]
        for s, (status, _, err) in zip(srcs, results):
            self.assertEqual(status, 0, err)
            self.assertSameFile(s, os.path.join(self.root, os.path.basename(s)))


class Reporting(FileTest):
    def test_progress_line_on_a_tty(self):
        _, ep = self.serve()
        src = self.path("thirty")
        write_random(src, 30 * MiB)
        cmd = shlex.join([SK_BIN, "send", "-w", "60", src, ep])
        r = subprocess.run(["script", "-qec", cmd, "/dev/null"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=STEP)
        self.assertEqual(r.returncode, 0, r.stdout)
        text = r.stdout.decode(errors="replace")
        self.assertIn("thirty", text)
        self.assertIn("%", text)
        self.assertRegex(text, r"\d B/s|iB/s")
        self.assertSameFile(src, os.path.join(self.root, "thirty"))

    def test_quiet_without_a_tty_summary_with_v(self):
        _, ep = self.serve()
        src = self.path("s")
        write_random(src, 1000)
        r = self.sk("send", "-w", "30", src, ep + ":/one")
        self.assertEqual(r.stderr, b"")
        r = self.sk("send", "-v", "-w", "30", src, ep + ":/two")
        self.assertRegex(r.stderr.decode(), r"sk: send: two/s: 1000 bytes in [0-9.]+ s")

    def test_usage_errors(self):
        src = self.path("u")
        write_random(src, 1)
        for args in (["send"], ["send", src], ["send", "--hash", "md5", src, "127.0.0.1:1"],
                     ["send", src, "udp:127.0.0.1:1"], ["send", "-o", "x", src, "127.0.0.1:1"],
                     ["get", "127.0.0.1:1"], ["get", "127.0.0.1:1", "../x"],
                     ["get", "127.0.0.1:1:/d", "x"], ["ls"], ["ls", "127.0.0.1:1", "a", "b"],
                     ["send", "-w", "0", src, "127.0.0.1:1"]):
            with self.subTest(args=args):
                r = self.sk(*args, ok=False)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertTrue(r.stderr.startswith(b"sk: "), r.stderr)
        for cmd in ("send", "get", "ls"):
            r = self.sk(cmd, "--help")
            self.assertIn(b"usage: sk " + cmd.encode(), r.stdout)


if __name__ == "__main__":
    unittest.main()
