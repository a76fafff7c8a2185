"""sk serve http with a real browser: headless Chromium (Debian's
`chromium`) loads a directory listing (its DOM dump lists the entries) and
a page with an image (it fetches the image; a screenshot is written).
Skipped when chromium is not installed."""
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

from skharness import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_TIMEOUT = 90


def png(width, height, rgb):
    """A small solid-colour PNG."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


@unittest.skipUnless(CHROMIUM, "chromium is not installed (apt-get install chromium)")
class HttpBrowserTest(unittest.TestCase):
    MODEL = "epoll"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sk-http-browser-")
        cls.root = os.path.join(cls.tmp, "root")
        os.makedirs(os.path.join(cls.root, "files", "a dir"))
        for name in ("readme.txt", "b & c.txt", "<odd>.html"):
            with open(os.path.join(cls.root, "files", name), "w") as f:
                f.write("x" * 10)
        os.makedirs(os.path.join(cls.root, "page"))
        with open(os.path.join(cls.root, "page", "index.html"), "w") as f:
            f.write('<!DOCTYPE html><html><head><title>pic</title></head><body>'
                    '<h1 id="t">A picture</h1><img id="pic" src="red.png" width="64" height="64">'
                    '</body></html>\n')
        with open(os.path.join(cls.root, "page", "red.png"), "wb") as f:
            f.write(png(64, 64, (220, 20, 20)))
        cls.log_path = os.path.join(cls.tmp, "access.log")
        cls.server = Server("http=tcp:127.0.0.1:0", "--model", cls.MODEL, "--http-root", cls.root,
                            "--access-log", cls.log_path, expect=1)
        cls.base = "http://%s:%d" % cls.server.addr("http")

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def chromium(self, *args):
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.tmp)
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-dev-shm-usage",
               "--no-first-run", "--user-data-dir=" + profile, *args]
        r = subprocess.run(cmd, capture_output=True, timeout=BROWSER_TIMEOUT, stdin=subprocess.DEVNULL)
        return r

    def test_listing_dom(self):
        r = self.chromium("--dump-dom", self.base + "/files/")
        dom = r.stdout.decode(errors="replace")
        self.assertIn("Index of /files/", dom, r.stderr.decode(errors="replace")[-2000:])
        for text in ("a dir/", "readme.txt", "b &amp; c.txt", "&lt;odd&gt;.html"):
            self.assertIn(text, dom)
        self.assertIn('href="b%20%26%20c.txt"', dom)
        self.assertIn('href="a%20dir/"', dom)

    def test_page_with_image_screenshot(self):
        shot = os.path.join(self.tmp, "page.png")
        r = self.chromium("--screenshot=" + shot, "--window-size=400,300", self.base + "/page/")
        self.assertTrue(os.path.exists(shot), r.stderr.decode(errors="replace")[-2000:])
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(shot), 100)
        deadline = time.monotonic() + 10
        log = ""
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                log = f.read()
            if '"GET /page/red.png HTTP/1.1" 200' in log:
                break
            time.sleep(0.1)
        self.assertIn('"GET /page/ HTTP/1.1" 200', log)
        self.assertIn('"GET /page/red.png HTTP/1.1" 200', log)


if __name__ == "__main__":
    unittest.main()
