"""`sk serve file`: the file transfer service driven by a Python client of
the protocol (fileproto.py, speaking "sha256"): round trips, verified
resume, names that try to leave the root, refusals (exists, --max-size),
a full disk and a file size limit, lost peers, concurrency, every model."""
import hashlib
import os
import re
import resource
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from fileproto import CHUNK, FileClient, chunk_digests, frame, sha256_hex
from skharness import SK_BIN, LISTEN_RE, parse_addr, read_line, stop_process, wait_for

MiB = 1024 * 1024


class FileServer:
    """A running `sk serve file=tcp:127.0.0.1:0 --file-root ROOT ...`, with an
    optional file size limit (RLIMIT_FSIZE) on the server process."""

    def __init__(self, root, *extra, model="thread", fsize=None, timeout=10):
        def preexec():
            if fsize is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        self.proc = subprocess.Popen(
            [SK_BIN, "serve", "file=tcp:127.0.0.1:0", "--file-root", root, "--model", model,
             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            preexec_fn=preexec)
        self._err = []
        self._err_thread = threading.Thread(target=self._drain, daemon=True)
        self._err_thread.start()
        line = read_line(self.proc.stdout, time.monotonic() + timeout)
        m = LISTEN_RE.match(line or "")
        if not m:
            self.stop()
            err = self.log()
            if "not available" in err:
                raise unittest.SkipTest("model %s not available here: %s" % (model, err.strip()))
            raise RuntimeError("sk serve file did not start: %r %s" % (line, err))
        self.addr = parse_addr(m.group(3))

    def _drain(self):
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self._err.append(chunk)

    def log(self):
        return b"".join(self._err).decode(errors="replace")

    def closes(self):
        """How many connections the server has logged as closed."""
        return len(re.findall(r"^sk: .* close file ", self.log(), re.M))

    def stop(self):
        status = stop_process(self.proc)
        self._err_thread.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return status


class FileServiceCase(unittest.TestCase):
    model = "thread"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sk-file-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.root = os.path.join(self.tmp, "root")

    def serve(self, *extra, root=None, **kw):
        kw.setdefault("model", self.model)
        srv = FileServer(root or self.root, *extra, **kw)
        self.addCleanup(self.stop_clean, srv)
        return srv

    def stop_clean(self, srv):
        """Stop the server: it exits 0, with no sanitizer report."""
        status = srv.stop()
        log = srv.log()
        self.assertNotIn("runtime error", log)
        self.assertNotIn("Sanitizer", log)
        self.assertEqual(status, 0, log[-2000:])

    def client(self, srv, **kw):
        c = FileClient(srv.addr, **kw)
        self.addCleanup(c.close)
        return c

    def path(self, name):
        return os.path.join(self.root, name)

    def assert_put_ok(self, c, name, data, **kw):
        _, _, final = c.put(name, data, **kw)
        self.assertEqual(final, {"op": "ok", "size": len(data), "digest": sha256_hex(data)})

    def assert_error(self, answer, *codes):
        self.assertEqual(answer.get("op"), "error", answer)
        self.assertIn(answer.get("code"), codes, answer)
        self.assertTrue(answer.get("message"), answer)

    def round_trip(self, c, sizes=(0, 1, 65535, MiB)):
        for size in sizes:
            data = os.urandom(size)
            name = "dir/sub/f%d.bin" % size
            self.assert_put_ok(c, name, data, mode=0o640, mtime=1700000000)
            with open(self.path(name), "rb") as f:
                self.assertEqual(f.read(), data)
            st = os.stat(self.path(name))
            self.assertEqual(st.st_mode & 0o777, 0o640)
            self.assertEqual(int(st.st_mtime), 1700000000)
            answer, got, end = c.get(name)
            self.assertEqual(answer, {"op": "file", "name": name, "size": size, "mode": 0o640,
                                      "mtime": 1700000000, "offset": 0})
            self.assertEqual(got, data)
            self.assertEqual(end, {"op": "end", "digest": sha256_hex(data)})
        entries, _ = c.list("dir")
        self.assertEqual([e["name"] for e in entries],
                         ["dir", "dir/sub"] + sorted("dir/sub/f%d.bin" % s for s in sizes))
        sizes_listed = {e["name"]: e.get("size") for e in entries if e["type"] == "file"}
        self.assertEqual(sizes_listed, {"dir/sub/f%d.bin" % s: s for s in sizes})


class RoundTrip(FileServiceCase):
    def test_round_trip_sizes(self):
        srv = self.serve()
        self.round_trip(self.client(srv))

    def test_round_trip_every_model(self):
        for model in ("thread", "fork", "epoll", "uring"):
            with self.subTest(model=model):
                root = os.path.join(self.tmp, "root-" + model)
                self.root = root
                try:
                    srv = FileServer(root, model=model)
                except unittest.SkipTest as e:
                    self.skipTest(str(e))
                try:
                    with FileClient(srv.addr) as c:
                        self.round_trip(c, sizes=(0, 1, 65535, MiB, 2 * CHUNK + 3))
                finally:
                    self.stop_clean(srv)

    def test_handshake(self):
        srv = self.serve()
        with FileClient(srv.addr, hello=False) as c:
            self.assertEqual(c.hello(), {"op": "hello", "version": 1, "hash": "sha256",
                                         "chunk": CHUNK, "server": "sk 0.1.0"})
        with FileClient(srv.addr, hash_name="xxh3-128", hello=False) as c:
            self.assertEqual(c.hello()["hash"], "xxh3-128")

    def test_bad_handshakes_close(self):
        srv = self.serve()
        cases = [
            ({"op": "hello", "version": 2, "hash": "sha256"}, "version"),
            ({"op": "hello", "version": 1, "hash": "md5"}, "version"),
            ({"op": "list", "name": ""}, "protocol"),          # before hello
            ({"op": "hello", "version": "1"}, "protocol"),
        ]
        for msg, code in cases:
            with self.subTest(msg=msg), FileClient(srv.addr, hello=False) as c:
                self.assert_error(c.request(msg), code)
                self.assertIsNone(c.recv())  # the server closed

    def test_malformed_messages_close(self):
        srv = self.serve()
        cases = [b"\xff\xff\xff\xff", struct.pack(">I", MiB + 1),
                 struct.pack(">I", 5) + b"nope!", frame({"op": "dance"}),
                 frame({"op": "put", "name": 5}), frame({"op": "from", "offset": 0}),
                 frame({"op": "put", "name": "a", "type": "file", "size": -1})]
        for raw in cases:
            with self.subTest(raw=raw[:16]), FileClient(srv.addr) as c:
                c.send_raw(raw)
                self.assert_error(c.recv(), "protocol")
                self.assertIsNone(c.recv())

    def test_pipelined_upload_in_one_buffer(self):
        """put, from 0, the raw bytes, end and a list in one write: the
        server splits control frames and raw bytes at exact counts."""
        srv = self.serve()
        c = self.client(srv)
        data = os.urandom(100000)
        c.send_raw(frame({"op": "put", "name": "p.bin", "type": "file", "size": len(data)})
                   + frame({"op": "from", "offset": 0}) + data
                   + frame({"op": "end", "digest": sha256_hex(data)})
                   + frame({"op": "list", "name": "p.bin"}))
        self.assertEqual(c.recv(), {"op": "resume", "have": 0, "digests": []})
        self.assertEqual(c.recv()["op"], "ok")
        self.assertEqual(c.recv()["entries"][0]["size"], len(data))
        with open(self.path("p.bin"), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_requests_behind_a_large_get_wait_for_it(self):
        """A get of a file far larger than the socket buffers, then a get
        and a list in the same write, the client reading nothing for a
        while: the answers come whole and in order (the server sends the
        file in pieces and keeps the later requests until its "end")."""
        big, small = os.urandom(24 * MiB + 12345), os.urandom(70000)
        for model in ("epoll", "thread", "uring"):
            with self.subTest(model=model):
                root = os.path.join(self.tmp, "root-" + model)
                os.makedirs(root)
                for name, data in (("big.bin", big), ("small.bin", small)):
                    with open(os.path.join(root, name), "wb") as f:
                        f.write(data)
                try:
                    srv = self.serve(root=root, model=model)
                except unittest.SkipTest as e:
                    self.skipTest(str(e))
                c = self.client(srv)
                c.send_raw(frame({"op": "get", "name": "big.bin", "have": 0, "digests": []})
                           + frame({"op": "get", "name": "small.bin", "have": 0, "digests": []})
                           + frame({"op": "list", "name": "small.bin"}))
                time.sleep(0.3)  # the server's queue fills: it must wait for us
                for name, data in (("big.bin", big), ("small.bin", small)):
                    answer = c.recv()
                    self.assertEqual((answer["op"], answer["name"], answer["size"]),
                                     ("file", name, len(data)))
                    self.assertEqual(c.recv_exact(len(data)), data)
                    self.assertEqual(c.recv(), {"op": "end", "digest": sha256_hex(data)})
                self.assertEqual(c.recv()["entries"][0]["size"], len(small))

    def test_client_gone_in_the_middle_of_a_get(self):
        """The client leaves while a large file is being sent to it: the
        server drops that download and serves the next client."""
        for model in ("epoll", "thread"):
            with self.subTest(model=model):
                root = os.path.join(self.tmp, "gone-" + model)
                os.makedirs(root)
                data = os.urandom(32 * MiB)
                with open(os.path.join(root, "big.bin"), "wb") as f:
                    f.write(data)
                srv = self.serve(root=root, model=model)
                c = FileClient(srv.addr)
                c.send({"op": "get", "name": "big.bin", "have": 0, "digests": []})
                self.assertEqual(c.recv()["op"], "file")
                c.recv_exact(MiB)
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()  # a reset, with most of the file unsent
                c2 = self.client(srv)
                _, got, end = c2.get("big.bin")
                self.assertEqual((got == data, end["digest"]), (True, sha256_hex(data)))

    def test_byte_at_a_time(self):
        srv = self.serve()
        c = self.client(srv)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = b"0123456789" * 7
        stream = (frame({"op": "put", "name": "slow", "type": "file", "size": len(data)})
                  + frame({"op": "from", "offset": 0}) + data
                  + frame({"op": "end", "digest": sha256_hex(data)}))
        for b in stream:
            c.send_raw(bytes([b]))
        self.assertEqual(c.recv()["op"], "resume")
        self.assertEqual(c.recv()["op"], "ok")
        with open(self.path("slow"), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_dirs_links_and_listing(self):
        srv = self.serve()
        c = self.client(srv)
        self.assertEqual(c.put_dir("photos/2024"), {"op": "ok"})
        self.assertEqual(c.put_dir("photos/2024"), {"op": "ok"})  # existing: fine
        self.assert_put_ok(c, "photos/a.jpg", b"jpeg")
        self.assertEqual(c.put_symlink("photos/latest", "a.jpg"), {"op": "ok"})
        self.assertEqual(c.put_symlink("photos/latest", "a.jpg"), {"op": "ok"})
        self.assert_error(c.put_symlink("photos/latest", "b.jpg"), "exists")
        self.assertEqual(os.readlink(self.path("photos/latest")), "a.jpg")
        with open(self.path("photos/junk.part"), "wb") as f:
            f.write(b"partial")
        entries, _ = c.list("photos")
        self.assertEqual([(e["name"], e["type"]) for e in entries],
                         [("photos", "dir"), ("photos/2024", "dir"), ("photos/a.jpg", "file"),
                          ("photos/latest", "symlink")])
        self.assertEqual(entries[3]["target"], "a.jpg")
        flat, _ = c.list("", recursive=False)
        self.assertEqual([e["name"] for e in flat], ["photos"])
        one, _ = c.list("photos/a.jpg")
        self.assertEqual(one[0]["size"], 4)
        self.assertEqual(c.get("photos/latest")[0],
                         {"op": "symlink", "name": "photos/latest", "target": "a.jpg"})
        self.assert_error(c.get("photos")[0], "isdir")
        self.assert_error(c.get("nothing")[0], "notfound")
        self.assert_error(c.list("nothing")[0], "notfound")
        self.assert_error(c.put("photos", b"x")[2], "isdir", "exists")

    def test_large_listing_comes_in_parts(self):
        os.makedirs(os.path.join(self.root, "many"))
        for i in range(3000):
            open(os.path.join(self.root, "many", "%04d-%s" % (i, "n" * 200)), "w").close()
        srv = self.serve()
        entries, messages = self.client(srv).list("many")
        self.assertGreater(messages, 1)
        self.assertEqual(len(entries), 3001)
        names = [e["name"] for e in entries]
        self.assertEqual(names, sorted(names))

    def test_digest_mismatch_removes_part(self):
        srv = self.serve()
        c = self.client(srv)
        data = os.urandom(5000)
        self.assertEqual(c.put_start("bad.bin", len(data))["op"], "resume")
        c.send({"op": "from", "offset": 0})
        c.send_raw(data)
        self.assert_error(c.request({"op": "end", "digest": sha256_hex(b"other")}), "digest")
        self.assertFalse(os.path.exists(self.path("bad.bin")))
        self.assertFalse(os.path.exists(self.path("bad.bin.part")))
        self.assertEqual(c.list("")[0], [])  # the session goes on

    @unittest.skipUnless(shutil.which("xxhsum"), "xxhsum (Debian package xxhash) not installed")
    def test_xxh3_digest_matches_xxhsum(self):
        data = os.urandom(3 * MiB + 7)
        os.makedirs(self.root)
        with open(self.path("x.bin"), "wb") as f:
            f.write(data)
        srv = self.serve()
        c = self.client(srv, hash_name="xxh3-128")
        answer, got, end = c.get("x.bin")
        self.assertEqual(got, data)
        out = subprocess.run(["xxhsum", "-H2", self.path("x.bin")], capture_output=True,
                             timeout=30, check=True).stdout.decode()
        self.assertEqual(end["digest"], out.split()[0])


class Resume(FileServiceCase):
    def upload_prefix(self, srv, name, data, sent, reset=False):
        """Start an upload of data, send `sent` bytes, then close (FIN) or
        reset the connection; wait until the server has closed it."""
        closes = srv.closes()
        c = FileClient(srv.addr)
        self.assertEqual(c.put_start(name, len(data)), {"op": "resume", "have": 0, "digests": []})
        c.send({"op": "from", "offset": 0})
        c.send_raw(data[:sent])
        if reset:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        self.assertTrue(wait_for(lambda: srv.closes() > closes, timeout=15), srv.log())

    def test_resume_after_close_mid_upload(self):
        srv = self.serve()
        data = os.urandom(10 * MiB + 123)
        self.upload_prefix(srv, "big.bin", data, 6 * MiB)
        self.assertEqual(os.path.getsize(self.path("big.bin.part")), 6 * MiB)
        self.assertFalse(os.path.exists(self.path("big.bin")))
        c = self.client(srv)
        resume, offset, final = c.put("big.bin", data)
        self.assertEqual(resume, {"op": "resume", "have": CHUNK,
                                  "digests": [sha256_hex(data[:CHUNK])]})
        self.assertEqual(offset, CHUNK)
        self.assertEqual(final["op"], "ok", final)
        with open(self.path("big.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertFalse(os.path.exists(self.path("big.bin.part")))

    def test_altered_part_restarts_from_zero(self):
        srv = self.serve()
        data = os.urandom(9 * MiB)
        self.upload_prefix(srv, "alt.bin", data, 8 * MiB + 5)
        with open(self.path("alt.bin.part"), "r+b") as f:
            f.seek(1000)
            byte = f.read(1)
            f.seek(1000)
            f.write(bytes([byte[0] ^ 0xff]))
        c = self.client(srv)
        resume, offset, final = c.put("alt.bin", data)
        self.assertEqual(resume["have"], 2 * CHUNK)
        self.assertNotEqual(resume["digests"][0], sha256_hex(data[:CHUNK]))
        self.assertEqual(resume["digests"][1], sha256_hex(data[CHUNK:2 * CHUNK]))
        self.assertEqual(offset, 0)
        self.assertEqual(final["op"], "ok", final)
        with open(self.path("alt.bin"), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_part_longer_than_file_is_not_offered(self):
        srv = self.serve()
        data = os.urandom(CHUNK + 10)
        self.upload_prefix(srv, "s.bin", os.urandom(3 * CHUNK), 2 * CHUNK)
        c = self.client(srv)
        resume, offset, final = c.put("s.bin", data)
        self.assertEqual((resume["have"], resume["digests"], offset), (0, [], 0))
        self.assertEqual(final["op"], "ok")

    def test_bad_from_offset_is_protocol_error(self):
        srv = self.serve()
        data = os.urandom(2 * CHUNK)
        self.upload_prefix(srv, "o.bin", data, CHUNK + 1)
        c = self.client(srv)
        self.assertEqual(c.put_start("o.bin", len(data))["have"], CHUNK)
        self.assert_error(c.request({"op": "from", "offset": 2 * CHUNK}), "protocol")

    def test_peer_reset_keeps_part(self):
        srv = self.serve()
        data = os.urandom(3 * MiB)
        self.upload_prefix(srv, "r.bin", data, 2 * MiB, reset=True)
        self.assertFalse(os.path.exists(self.path("r.bin")))
        self.assertTrue(os.path.exists(self.path("r.bin.part")))
        c = self.client(srv)  # the lock is gone: the name can be uploaded again
        self.assertEqual(c.put("r.bin", data)[2]["op"], "ok")

    def test_get_resumes_from_local_part(self):
        os.makedirs(self.root)
        data = os.urandom(2 * CHUNK + 99)
        with open(self.path("g.bin"), "wb") as f:
            f.write(data)
        srv = self.serve()
        c = self.client(srv)
        answer, got, end = c.get("g.bin", part=data[:CHUNK] + b"x" * CHUNK)
        self.assertEqual(answer["offset"], CHUNK)
        self.assertEqual(got, data)
        self.assertEqual(end["digest"], sha256_hex(data))
        answer, got, _ = c.get("g.bin", part=b"y" * CHUNK)
        self.assertEqual((answer["offset"], got), (0, data))

    def test_concurrent_upload_of_one_name_refused(self):
        srv = self.serve()
        a, b = self.client(srv), self.client(srv)
        self.assertEqual(a.put_start("same", 10)["op"], "resume")
        self.assert_error(b.put_start("same", 10), "io")
        a.send({"op": "from", "offset": 0})
        a.send_raw(b"0123456789")
        self.assertEqual(a.request({"op": "end", "digest": sha256_hex(b"0123456789")})["op"], "ok")


class Refusals(FileServiceCase):
    BAD_NAMES = ["../x", "/etc/passwd", "a/../../x", "a\x00b", "a//b", "./a", "", "a/",
                 "x\x01y", "x.part", "d/y.part", "\udcff"]

    def test_traversal_matrix(self):
        canary = os.path.join(self.tmp, "canary")
        os.makedirs(canary)
        os.makedirs(self.root)
        os.symlink("/etc", self.path("link"))
        os.symlink("../canary", self.path("up"))
        etc_before = sorted(os.listdir("/etc"))
        passwd_before = os.stat("/etc/passwd")
        srv = self.serve()
        c = self.client(srv)
        for name in self.BAD_NAMES:
            with self.subTest(name=name):
                if name == "\udcff":  # not UTF-8: send the raw byte in the JSON
                    body = b'{"op":"put","name":"\xff","type":"file","size":1}'
                    c.send_raw(struct.pack(">I", len(body)) + body)
                    self.assert_error(c.recv(), "badname")
                    continue
                self.assert_error(c.put_start(name, 1), "badname")
                self.assert_error(c.get(name)[0], "badname")
        for name in ("link/passwd", "link/x.txt", "up/x", "up/sub/x", "link/../passwd"):
            with self.subTest(name=name):
                self.assert_error(c.put(name, b"owned")[2], "badname", "notfound")
                self.assert_error(c.get(name)[0], "badname", "notfound")
                self.assert_error(c.put_dir(name), "badname", "notfound")
                self.assert_error(c.put_symlink(name, "/tmp"), "badname", "notfound")
        self.assert_error(c.list("link/")[0], "badname")
        self.assert_error(c.list("link/ssl")[0], "badname", "notfound")
        self.assertEqual(os.listdir(canary), [])
        self.assertEqual(sorted(os.listdir("/etc")), etc_before)
        self.assertEqual(os.stat("/etc/passwd").st_mtime_ns, passwd_before.st_mtime_ns)
        # The links themselves are entries of the root, listed, never followed.
        entries, _ = c.list("")
        self.assertEqual([(e["name"], e["target"]) for e in entries],
                         [("link", "/etc"), ("up", "../canary")])
        self.assertEqual(c.get("link")[0], {"op": "symlink", "name": "link", "target": "/etc"})

    def test_symlink_stored_verbatim(self):
        srv = self.serve()
        c = self.client(srv)
        self.assertEqual(c.put_symlink("pw", "/etc/passwd"), {"op": "ok"})
        self.assertEqual(os.readlink(self.path("pw")), "/etc/passwd")
        self.assertEqual(c.get("pw")[0], {"op": "symlink", "name": "pw", "target": "/etc/passwd"})
        # Uploading through it neither follows nor replaces it.
        self.assert_error(c.put("pw", b"x")[2], "exists")
        self.assertEqual(os.readlink(self.path("pw")), "/etc/passwd")

    def test_exists_without_overwrite(self):
        srv = self.serve()
        c = self.client(srv)
        self.assert_put_ok(c, "e.txt", b"first")
        answer = c.put("e.txt", b"second")[2]
        self.assert_error(answer, "exists")
        self.assertIn("--overwrite", answer["message"])
        with open(self.path("e.txt"), "rb") as f:
            self.assertEqual(f.read(), b"first")

    def test_overwrite_replaces(self):
        srv = self.serve("--overwrite")
        c = self.client(srv)
        self.assert_put_ok(c, "e.txt", b"first")
        self.assert_put_ok(c, "e.txt", b"second, longer")
        with open(self.path("e.txt"), "rb") as f:
            self.assertEqual(f.read(), b"second, longer")

    def test_max_size(self):
        srv = self.serve("--max-size", "1K")
        c = self.client(srv)
        self.assert_put_ok(c, "ok.bin", os.urandom(1024))
        answer = c.put("big.bin", os.urandom(1025))[2]
        self.assert_error(answer, "toolarge")
        self.assertFalse(os.path.exists(self.path("big.bin.part")))
        self.assert_put_ok(c, "after.bin", b"session still usable")

    def test_bad_max_size_option(self):
        for bad in ("0", "-1", "10X", "", "99999999999999999999G"):
            r = subprocess.run([SK_BIN, "serve", "file=tcp:127.0.0.1:0", "--max-size", bad],
                               capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn(b"--max-size", r.stderr)

    def fill_disk_then_check(self, srv, existing=b"old contents"):
        """Upload 3 MiB over an existing file on a server whose disk or file
        size limit gives out after 2 MiB: the error says nospace at once,
        the session stays in step, the old file is untouched."""
        c = self.client(srv)
        data = os.urandom(3 * MiB)
        self.assertEqual(c.put_start("big.bin", len(data))["op"], "resume")
        c.send({"op": "from", "offset": 0})
        c.send_raw(data)
        answer = c.recv()
        self.assert_error(answer, "nospace")
        self.assertIn("big.bin", answer["message"])
        c.send({"op": "end", "digest": sha256_hex(data)})  # read and dropped by the server
        self.assertEqual(c.list("big.bin")[0][0]["size"], len(existing))
        with open(self.path("big.bin"), "rb") as f:
            self.assertEqual(f.read(), existing)
        self.assertTrue(os.path.exists(self.path("big.bin.part")))

    def test_disk_full(self):
        os.makedirs(self.root)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", self.root],
                           capture_output=True, timeout=10)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + r.stderr.decode().strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.root], capture_output=True,
                        timeout=10)
        with open(self.path("big.bin"), "wb") as f:
            f.write(b"old contents")
        srv = self.serve("--overwrite")
        self.fill_disk_then_check(srv)

    def test_file_size_limit(self):
        os.makedirs(self.root)
        with open(self.path("big.bin"), "wb") as f:
            f.write(b"old contents")
        srv = self.serve("--overwrite", fsize=2 * MiB)
        self.fill_disk_then_check(srv)
        self.assertEqual(os.path.getsize(self.path("big.bin.part")), 2 * MiB)
        self.assertIsNone(srv.proc.poll())  # SIGXFSZ did not kill the server


class Concurrency(FileServiceCase):
    def test_concurrent_uploads_epoll(self):
        srv = self.serve(model="epoll")
        blobs = {"c%02d.bin" % i: os.urandom(100000 + i * 50000) for i in range(20)}
        results, errors = {}, []

        def upload(name, data):
            try:
                with FileClient(srv.addr) as c:
                    results[name] = c.put(name, data)[2]
            except Exception as e:  # reported below
                errors.append((name, e))

        threads = [threading.Thread(target=upload, args=item) for item in blobs.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(errors, [])
        c = self.client(srv)
        for name, data in blobs.items():
            self.assertEqual(results[name], {"op": "ok", "size": len(data),
                                             "digest": sha256_hex(data)})
            with open(self.path(name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha256_hex(data))
            _, got, end = c.get(name)
            self.assertEqual((got, end["digest"]), (data, sha256_hex(data)))
        entries, _ = c.list("")
        self.assertEqual(len(entries), 20)


if __name__ == "__main__":
    unittest.main()
