"""sk serve http: the static HTTP/1.1 server, against real clients (curl,
python's http.client, raw sockets) on loopback, under the epoll, reactors
and thread models: status codes and header fields, conditional and range
requests, pipelining, the path traversal matrix, request smuggling shapes,
slowloris, the access log and a seed-style raw client."""
import email.utils
import http.client
import io
import os
import re
import selectors
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from skharness import Server

CURL = shutil.which("curl")
SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"
IO_TIMEOUT = 10


def build_tree(top):
    """top/root (served) and top/secret.txt (outside it)."""
    root = os.path.join(top, "root")
    os.makedirs(os.path.join(root, "list", "sub"))
    os.makedirs(os.path.join(root, "site"))
    os.makedirs(os.path.join(root, "empty"))
    with open(os.path.join(top, "secret.txt"), "wb") as f:
        f.write(SECRET)
    files = {
        "hello.txt": b"hello world\n",
        "data.bin": bytes(range(256)) * 400,            # 102400 bytes
        "big.bin": os.urandom(3 * 1024 * 1024),
        "list/a file.txt": b"a",
        "list/b&<c>.txt": b"bc",
        "list/z\"q'.txt": b"zq",
        "list/.hidden": b"hidden",
        "list/sub/inner.txt": b"inner",
        "site/index.html": b"<!DOCTYPE html><html><body><p>site</p></body></html>\n",
        "style.css": b"body{}\n",
        ".env": b"PASSWORD=x\n",
        "zero.txt": b"",
    }
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    os.symlink(os.path.join(top, "secret.txt"), os.path.join(root, "escape"))
    os.symlink("../secret.txt", os.path.join(root, "escape_rel"))
    os.symlink(top, os.path.join(root, "escape_dir"))
    os.symlink("hello.txt", os.path.join(root, "inlink"))
    os.mkfifo(os.path.join(root, "fifo"))
    old = 1_000_000_000  # 2001-09-09: a fixed Last-Modified
    os.utime(os.path.join(root, "hello.txt"), (old, old))
    return root, files


def read_response(f, head=False):
    """One response from a binary file object: (status, headers dict with
    lower-case names, body). None at EOF before a status line."""
    line = f.readline()
    if not line:
        return None
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", line)
    assert m, line
    headers = {}
    while True:
        line = f.readline()
        assert line, "EOF inside the head"
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(m.group(1))
    n = int(headers.get("content-length", "0"))
    body = b"" if head or status == 304 else f.read(n)
    return status, headers, body


def raw_exchange(addr, data, head=False, timeout=IO_TIMEOUT, check_close=True):
    """Send data on a new connection; return (first response, whether the
    server then closed the connection: None when not checked)."""
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(data)
        f = s.makefile("rb")
        resp = read_response(f, head=head)
        if not check_close:
            return resp, None
        try:
            closed = f.read(1) == b""
        except (socket.timeout, ConnectionResetError):
            closed = False
        return resp, closed


class KeepOpen(io.BufferedReader):
    """One buffered reader shared by several http.client responses."""

    def close(self):
        pass


class FakeSock:
    def __init__(self, fp):
        self.fp = fp

    def makefile(self, *args, **kwargs):
        return self.fp


class HttpBase:
    MODEL = "epoll"
    EXTRA = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sk-http-")
        cls.root, cls.files = build_tree(cls.tmp)
        cls.log_path = os.path.join(cls.tmp, "access.log")
        cls.server = Server("http=tcp:127.0.0.1:0", "--model", cls.MODEL, *cls.EXTRA,
                            "--http-root", cls.root, "--access-log", cls.log_path, expect=1)
        cls.addr = cls.server.addr("http")
        cls.base = "http://%s:%d" % cls.addr

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers -------------------------------------------------------

    def get(self, path, method="GET", headers=None):
        """One request with http.client: (status, headers, body)."""
        conn = http.client.HTTPConnection(*self.addr, timeout=IO_TIMEOUT)
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body
        finally:
            conn.close()

    def curl(self, *args):
        """curl -s -i ARGS: (status, headers, body) of the last response."""
        if not CURL:
            self.skipTest("curl not installed")
        out = subprocess.run([CURL, "-s", "-i", "--max-time", str(IO_TIMEOUT), *args],
                             capture_output=True, timeout=IO_TIMEOUT + 5).stdout
        resp = None
        f = io.BytesIO(out)
        while True:
            head = "-I" in args or "--head" in args
            r = read_response(f, head=head) if f.tell() < len(out) else None
            if r is None:
                break
            resp = r
        self.assertIsNotNone(resp, out[:200])
        return resp

    def raw(self, data, head=False, check_close=True):
        return raw_exchange(self.addr, data, head=head, check_close=check_close)

    # -- status codes and header fields ----------------------------------

    def test_200_headers(self):
        status, h, body = self.curl(self.base + "/hello.txt")
        self.assertEqual(status, 200)
        self.assertEqual(body, self.files["hello.txt"])
        self.assertEqual(h["content-length"], "12")
        self.assertTrue(h["content-type"].startswith("text/plain"), h)
        self.assertEqual(h["server"], "sockkit")
        self.assertEqual(h["accept-ranges"], "bytes")
        self.assertEqual(h["last-modified"], "Sun, 09 Sep 2001 01:46:40 GMT")
        self.assertRegex(h["etag"], r'^"[0-9a-f]+-[0-9a-f]+"$')
        self.assertLess(abs(email.utils.parsedate_to_datetime(h["date"]).timestamp() - time.time()),
                        60)

    def test_200_binary_and_large(self):
        for name in ("data.bin", "big.bin", "zero.txt"):
            status, h, body = self.get("/" + name)
            self.assertEqual(status, 200, name)
            self.assertEqual(body, self.files[name], name)
            self.assertEqual(int(h["content-length"]), len(self.files[name]))

    def test_mime_types(self):
        for path, want in (("/style.css", "text/css"), ("/data.bin", "application/octet-stream"),
                           ("/site/index.html", "text/html")):
            status, h, _ = self.get(path)
            self.assertEqual(status, 200, path)
            self.assertTrue(h["content-type"].startswith(want), (path, h["content-type"]))

    def test_head(self):
        status, h, body = self.curl("-I", self.base + "/data.bin")
        self.assertEqual(status, 200)
        self.assertEqual(h["content-length"], "102400")
        self.assertEqual(body, b"")
        g_status, g, _ = self.get("/data.bin")
        for name in ("content-length", "etag", "last-modified", "content-type"):
            self.assertEqual(h[name], g[name], name)
        # No body bytes follow a HEAD response on a persistent connection.
        (st, hh, _), closed = self.raw(b"HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n"
                                       b"Connection: close\r\n\r\n", head=True)
        self.assertEqual(st, 200)
        self.assertTrue(closed)

    def test_206_range(self):
        status, h, body = self.curl("-r", "10-19", self.base + "/data.bin")
        self.assertEqual(status, 206)
        self.assertEqual(body, self.files["data.bin"][10:20])
        self.assertEqual(h["content-range"], "bytes 10-19/102400")
        self.assertEqual(h["content-length"], "10")
        status, h, body = self.get("/data.bin", headers={"Range": "bytes=-5"})
        self.assertEqual((status, body), (206, self.files["data.bin"][-5:]))
        status, h, body = self.get("/data.bin", headers={"Range": "bytes=102000-"})
        self.assertEqual((status, body), (206, self.files["data.bin"][102000:]))
        status, h, body = self.get("/big.bin", headers={"Range": "bytes=10000-2000000"})
        self.assertEqual((status, body), (206, self.files["big.bin"][10000:2000001]))
        self.assertEqual(h["content-range"], "bytes 10000-2000000/%d" % len(self.files["big.bin"]))
        # Several ranges: ignored, the whole file.
        status, h, body = self.get("/data.bin", headers={"Range": "bytes=0-1,5-6"})
        self.assertEqual((status, len(body)), (200, 102400))

    def test_if_range(self):
        _, h, _ = self.get("/data.bin")
        status, _, body = self.get("/data.bin", headers={"Range": "bytes=0-3", "If-Range": h["etag"]})
        self.assertEqual((status, body), (206, self.files["data.bin"][:4]))
        status, _, body = self.get("/data.bin", headers={"Range": "bytes=0-3", "If-Range": '"other"'})
        self.assertEqual((status, len(body)), (200, 102400))

    def test_416(self):
        status, h, _ = self.curl("-r", "200000-300000", self.base + "/data.bin")
        self.assertEqual(status, 416)
        self.assertEqual(h["content-range"], "bytes */102400")

    def test_304_if_none_match(self):
        _, h, _ = self.get("/hello.txt")
        status, h2, body = self.curl("-H", "If-None-Match: " + h["etag"], self.base + "/hello.txt")
        self.assertEqual((status, body), (304, b""))
        self.assertEqual(h2["etag"], h["etag"])
        status, _, _ = self.get("/hello.txt", headers={"If-None-Match": '"x", W/' + h["etag"]})
        self.assertEqual(status, 304)
        status, _, _ = self.get("/hello.txt", headers={"If-None-Match": "*"})
        self.assertEqual(status, 304)
        # A non-matching If-None-Match wins over a matching If-Modified-Since.
        status, _, body = self.get("/hello.txt", headers={
            "If-None-Match": '"nope"', "If-Modified-Since": "Sun, 09 Sep 2001 01:46:40 GMT"})
        self.assertEqual((status, body), (200, self.files["hello.txt"]))

    def test_304_if_modified_since(self):
        status, _, body = self.curl("-H", "If-Modified-Since: Sun, 09 Sep 2001 01:46:40 GMT",
                                    self.base + "/hello.txt")
        self.assertEqual((status, body), (304, b""))
        status, _, _ = self.get("/hello.txt", headers={"If-Modified-Since": "Sat, 08 Sep 2001 00:00:00 GMT"})
        self.assertEqual(status, 200)
        status, _, _ = self.get("/hello.txt", headers={"If-Modified-Since": "garbage"})
        self.assertEqual(status, 200)

    def test_index_and_301(self):
        status, h, body = self.curl(self.base + "/site")
        self.assertEqual(status, 301)
        self.assertEqual(h["location"], "/site/")
        out = subprocess.run([CURL, "-s", "-L", "--max-time", str(IO_TIMEOUT), self.base + "/site"],
                             capture_output=True, timeout=IO_TIMEOUT + 5).stdout
        self.assertEqual(out, self.files["site/index.html"])
        status, h, body = self.get("/site/")
        self.assertEqual((status, body), (200, self.files["site/index.html"]))
        self.assertTrue(h["content-type"].startswith("text/html"))
        status, h, _ = self.get("/list%20x")
        self.assertEqual(status, 404)

    def test_listing(self):
        status, h, body = self.get("/list/")
        self.assertEqual(status, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        page = body.decode()
        self.assertIn('href="a%20file.txt"', page)
        self.assertIn("b&amp;&lt;c&gt;.txt", page)
        self.assertIn("z&quot;q&#39;.txt", page)
        self.assertIn('href="sub/"', page)
        self.assertIn('href="../"', page)
        self.assertNotIn(".hidden", page)
        self.assertNotIn("<script", page.lower())
        self.assertLess(page.index("sub/"), page.index("a file.txt"))  # directories first
        self.assertLess(page.index("a%20file"), page.index("b%26"))     # then by name
        status, _, body = self.get("/")
        self.assertNotIn(b".env", body)
        self.assertNotIn(b'href="../"', body)
        status, _, body = self.get("/empty/")
        self.assertEqual(status, 200)

    def test_dotfiles_hidden(self):
        for path in ("/.env", "/list/.hidden", "/%2eenv"):
            status, _, body = self.get(path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(b"PASSWORD", body)

    def test_403_404(self):
        self.assertEqual(self.get("/fifo")[0], 403)
        self.assertEqual(self.get("/missing.txt")[0], 404)
        self.assertEqual(self.get("/hello.txt/")[0], 404)
        status, h, body = self.curl(self.base + "/nope")
        self.assertEqual(status, 404)
        self.assertIn(b"404 Not Found", body)
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertEqual(self.get("/inlink")[2], self.files["hello.txt"])

    def test_405(self):
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            status, h, _ = self.curl("-X", method, self.base + "/hello.txt")
            self.assertEqual(status, 405, method)
            self.assertEqual(h["allow"], "GET, HEAD")

    def test_413(self):
        status, h, _ = self.curl("--data-binary", "hello", "-X", "GET", self.base + "/hello.txt")
        self.assertEqual(status, 413)
        (st, _, _), closed = self.raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n"
                                      b"Content-Length: 5\r\n\r\nhello")
        self.assertEqual(st, 413)
        self.assertTrue(closed)

    def test_414(self):
        status, _, _ = self.curl(self.base + "/" + "a" * 9000)
        self.assertEqual(status, 414)

    def test_431(self):
        status, _, _ = self.curl("-H", "X-Big: " + "b" * 17000, self.base + "/hello.txt")
        self.assertEqual(status, 431)
        many = b"".join(b"X-F%d: v\r\n" % i for i in range(101))
        (st, _, _), closed = self.raw(b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        self.assertEqual(st, 431)
        self.assertTrue(closed)

    def test_400_505(self):
        for req, want in ((b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
                          (b"GET / HTTP/1.1\r\n\r\n", 400),       # no Host
                          (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                          (b"GET / FOO/1.1\r\nHost: x\r\n\r\n", 400)):
            (status, h, _), closed = self.raw(req)
            self.assertEqual(status, want, req)
            self.assertEqual(h.get("connection"), "close", req)
            self.assertTrue(closed, req)

    def test_http10_and_connection_close(self):
        (status, h, body), closed = self.raw(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        self.assertEqual((status, body), (200, self.files["hello.txt"]))
        self.assertTrue(closed)
        with socket.create_connection(self.addr, timeout=IO_TIMEOUT) as s:
            s.sendall(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            f = s.makefile("rb")
            status, h, _ = read_response(f)
            self.assertEqual(h["connection"].lower(), "keep-alive")
            s.sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
            self.assertEqual(read_response(f)[0], 200)
            self.assertEqual(f.read(1), b"")
        (status, h, _), closed = self.raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n"
                                          b"Connection: close\r\n\r\n")
        self.assertEqual((status, h["connection"]), (200, "close"))
        self.assertTrue(closed)

    def test_keep_alive_http_client(self):
        conn = http.client.HTTPConnection(*self.addr, timeout=IO_TIMEOUT)
        try:
            for _ in range(5):
                for name in ("hello.txt", "data.bin"):
                    conn.request("GET", "/" + name)
                    r = conn.getresponse()
                    self.assertEqual(r.read(), self.files[name])
            self.assertIsNotNone(conn.sock)  # still the same connection
        finally:
            conn.close()

    def test_changed_file_on_one_connection(self):
        # The connection's open-file cache never serves a replaced or
        # rewritten file.
        path = os.path.join(self.root, "changing.txt")
        with open(path, "wb") as f:
            f.write(b"first version\n")
        conn = http.client.HTTPConnection(*self.addr, timeout=IO_TIMEOUT)
        try:
            def fetch():
                conn.request("GET", "/changing.txt")
                return conn.getresponse().read()
            self.assertEqual(fetch(), b"first version\n")
            with open(path + ".tmp", "wb") as f:
                f.write(b"second, longer version\n")
            os.rename(path + ".tmp", path)
            self.assertEqual(fetch(), b"second, longer version\n")
            with open(path, "r+b") as f:
                f.write(b"THIRD")
            self.assertEqual(fetch(), b"THIRDd, longer version\n")
            os.unlink(path)
            conn.request("GET", "/changing.txt")
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 404)
        finally:
            conn.close()

    def test_small_file_rewritten_in_place(self):
        # A connection keeps a small file's bytes between requests (once
        # the file has been unchanged for 2 s): a rewrite in place of the
        # same size is still seen at once, even with its mtime put back,
        # and so are rewrites that follow each other within microseconds.
        path = os.path.join(self.root, "inplace.txt")
        with open(path, "wb") as f:
            f.write(b"version 00\n")
        old = os.stat(path).st_mtime_ns
        time.sleep(2.1)  # unchanged for 2 s: its bytes are kept
        conn = http.client.HTTPConnection(*self.addr, timeout=IO_TIMEOUT)
        try:
            def fetch():
                conn.request("GET", "/inplace.txt")
                r = conn.getresponse()
                return r.status, r.read()
            self.assertEqual(fetch(), (200, b"version 00\n"))
            self.assertEqual(fetch(), (200, b"version 00\n"))
            with open(path, "r+b") as f:
                f.write(b"VERSION 01\n")
            os.utime(path, ns=(old, old))  # same inode, size and mtime: only ctime differs
            self.assertEqual(fetch(), (200, b"VERSION 01\n"))
            for i in range(2, 40):
                data = b"version %02d\n" % i
                with open(path, "r+b") as f:
                    f.write(data)
                self.assertEqual(fetch(), (200, data))
        finally:
            conn.close()
            os.unlink(path)

    # -- pipelining -------------------------------------------------------

    def pipelined(self, names, repeat=1):
        req = b"".join(b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % n.encode() for n in names) * repeat
        with socket.create_connection(self.addr, timeout=30) as s:
            s.sendall(req)
            fp = KeepOpen(socket.SocketIO(s, "rb"))
            for i in range(len(names) * repeat):
                name = names[i % len(names)]
                r = http.client.HTTPResponse(FakeSock(fp))
                r.begin()
                self.assertEqual(r.status, 200, (i, name))
                self.assertEqual(r.read(), self.files[name], (i, name))

    def test_pipelining(self):
        self.pipelined(["hello.txt", "data.bin", "zero.txt", "hello.txt", "style.css"])

    def test_pipelining_many(self):
        # More queued output than the server keeps before pausing the reader.
        self.pipelined(["data.bin", "hello.txt", "big.bin"], repeat=4)

    def test_pipelining_split_and_mixed(self):
        reqs = (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                b"HEAD /data.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
                b"POST /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        with socket.create_connection(self.addr, timeout=IO_TIMEOUT) as s:
            for i in range(0, len(reqs), 7):  # byte runs split anywhere
                s.sendall(reqs[i:i + 7])
                time.sleep(0.002)
            f = s.makefile("rb")
            got = [read_response(f, head=(i == 1))[0] for i in range(5)]
            self.assertEqual(got, [200, 200, 404, 405, 200])
            self.assertEqual(f.read(1), b"")

    # -- traversal ---------------------------------------------------------

    def test_traversal_matrix(self):
        targets = [b"/../secret.txt", b"/../../etc/passwd", b"/%2e%2e/secret.txt",
                   b"/%2e%2e%2fsecret.txt", b"/%252e%252e/secret.txt", b"/a/../../secret.txt",
                   b"/list/../../secret.txt", b"/.%2e/secret.txt", b"/%2E%2E/%2E%2E/etc/passwd",
                   b"http://127.0.0.1/../secret.txt", b"http://x/%2e%2e/secret.txt",
                   b"/hello.txt%00.html", b"/%00", b"/escape", b"/escape_rel", b"/escape_dir/secret.txt",
                   b"/escape_dir/", b"//etc/passwd", b"/..\\secret.txt", b"/%5c..%5csecret.txt",
                   b"/./../secret.txt", b"/..;/secret.txt", b"..", b"/list/%2e%2e/%2e%2e/secret.txt",
                   b"/\xc0\xae\xc0\xae/secret.txt"]
        for t in targets:
            (status, _, body), _ = self.raw(b"GET " + t + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                                            check_close=False)
            self.assertIn(status, (400, 403, 404), t)
            self.assertNotIn(SECRET, body, t)
            self.assertNotIn(b"root:", body, t)
        if CURL:
            for t in ("/../secret.txt", "/%2e%2e/secret.txt", "/escape"):
                status, _, body = self.curl("--path-as-is", self.base + t)
                self.assertIn(status, (400, 403, 404), t)
                self.assertNotIn(SECRET, body)

    def test_absolute_form(self):
        (status, _, body), _ = self.raw(b"GET http://127.0.0.1/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
                                        check_close=False)
        self.assertEqual((status, body), (200, self.files["hello.txt"]))

    # -- smuggling -------------------------------------------------------------

    def test_smuggling_shapes(self):
        shapes = [
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\rHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            b"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ]
        for req in shapes:
            (status, h, _), closed = self.raw(req + b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(status, 400, req)
            self.assertEqual(h.get("connection"), "close", req)
            self.assertTrue(closed, req)

    # -- clients ------------------------------------------------------------------

    def test_seed_style_client(self):
        sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sk.settimeout(IO_TIMEOUT)
            sk.connect(self.addr)
            sk.send(b"GET /hello.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while True:
                chunk = sk.recv(1024)
                if not chunk:
                    break
                data += chunk
        finally:
            sk.close()
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"), head)
        self.assertIn(b"\r\nContent-Length: 12\r\n", head)
        self.assertEqual(body, self.files["hello.txt"])

    def test_access_log(self):
        self.get("/hello.txt", headers={"User-Agent": 'agent "quoted"', "Referer": "http://r/"})
        line_re = re.compile(r'^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] '
                             r'"GET /hello.txt HTTP/1.1" 200 12 "http://r/" "agent \\x22quoted\\x22"$')

        def logged():
            with open(self.log_path) as f:
                return [l for l in f.read().splitlines() if line_re.match(l)]
        deadline = time.monotonic() + IO_TIMEOUT
        while not logged() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(logged())


class HttpEpollTest(HttpBase, unittest.TestCase):
    MODEL = "epoll"


class HttpReactorsTest(HttpBase, unittest.TestCase):
    MODEL = "reactors"
    EXTRA = ("--workers", "2")


class HttpThreadTest(HttpBase, unittest.TestCase):
    MODEL = "thread"


class HttpTimeoutTest(unittest.TestCase):
    """Header-read and keep-alive timeouts; the default endpoint options."""

    MODELS = ("epoll", "reactors", "thread")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sk-http-")
        self.root, self.files = build_tree(self.tmp)
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def start(self, model, *args):
        srv = Server("http=tcp:127.0.0.1:0", "--model", model, "--http-root", self.root, *args, expect=1)
        self.addCleanup(srv.__exit__, None, None, None)
        return srv.addr("http")

    def test_slowloris(self):
        for model in self.MODELS:
            with self.subTest(model=model):
                self.slowloris(model)

    def slowloris(self, model, n=200, header_timeout=2.0):
        addr = self.start(model, "--header-timeout", str(header_timeout), "-q")
        request = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100
        sel = selectors.DefaultSelector()
        socks = []
        try:
            for _ in range(n):
                s = socket.create_connection(addr, timeout=IO_TIMEOUT)
                s.setblocking(False)
                socks.append(s)
                sel.register(s, selectors.EVENT_READ)
            start = time.monotonic()
            closed = set()
            sent = 0
            served_meanwhile = False
            while len(closed) < n and time.monotonic() - start < header_timeout + 8:
                for s in socks:
                    if s not in closed:
                        try:
                            s.send(request[sent:sent + 1])
                        except OSError:
                            closed.add(s)
                sent += 1
                if not served_meanwhile:
                    (st, _, body), _ = raw_exchange(addr, b"GET /hello.txt HTTP/1.0\r\n\r\n")
                    served_meanwhile = st == 200 and body == self.files["hello.txt"]
                until = time.monotonic() + 1.0
                while time.monotonic() < until and len(closed) < n:
                    for key, _ in sel.select(timeout=max(0, until - time.monotonic())):
                        try:
                            data = key.fileobj.recv(4096)
                        except (BlockingIOError, InterruptedError):
                            continue
                        except OSError:
                            data = b""
                        if not data:
                            closed.add(key.fileobj)
                            sel.unregister(key.fileobj)
            elapsed = time.monotonic() - start
            self.assertTrue(served_meanwhile)
            self.assertEqual(len(closed), n, "%d of %d slow connections closed" % (len(closed), n))
            self.assertGreaterEqual(elapsed, header_timeout - 0.5)
            self.assertLess(elapsed, header_timeout + 8)
        finally:
            sel.close()
            for s in socks:
                s.close()

    def test_keepalive_timeout(self):
        for model in self.MODELS:
            with self.subTest(model=model):
                addr = self.start(model, "--keepalive-timeout", "1", "--header-timeout", "5")
                with socket.create_connection(addr, timeout=IO_TIMEOUT) as s:
                    s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                    f = s.makefile("rb")
                    self.assertEqual(read_response(f)[0], 200)
                    start = time.monotonic()
                    self.assertEqual(f.read(1), b"")  # closed by the server
                    self.assertLess(time.monotonic() - start, 4.5)

    def test_help_and_bad_root(self):
        from skharness import run_sk
        out = run_sk("serve", "--help").stdout.decode()
        for opt in ("--http-root", "--http-dotfiles", "--access-log", "--header-timeout",
                    "--keepalive-timeout"):
            self.assertIn(opt, out)
        r = run_sk("serve", "http=tcp:127.0.0.1:0", "--http-root", os.path.join(self.tmp, "nope"))
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"http", r.stderr)

    def test_dotfiles_option(self):
        addr = self.start("epoll", "--http-dotfiles")
        (status, _, body), _ = raw_exchange(addr, b"GET /.env HTTP/1.0\r\n\r\n")
        self.assertEqual((status, body), (200, self.files[".env"]))
        (status, _, body), _ = raw_exchange(addr, b"GET /list/ HTTP/1.0\r\n\r\n")
        self.assertIn(b".hidden", body)


if __name__ == "__main__":
    unittest.main()
