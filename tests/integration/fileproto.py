"""A small Python client of the sockkit file transfer protocol
(docs/protocol.md, "File transfer"), for the integration tests: frames with
a JSON payload for control messages, raw bytes for file contents. Python's
hashlib has no XXH3, so these tests speak "sha256". Every receive is bounded
by the socket timeout."""
import hashlib
import json
import socket
import struct

CHUNK = 4 * 1024 * 1024
CONTROL_MAX = 1024 * 1024


class ProtocolError(Exception):
    """The server answered something the test did not expect."""


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def chunk_digests(data, count=None):
    """sha256 digests of data's whole 4 MiB chunks (the first count of them)."""
    whole = len(data) // CHUNK if count is None else count
    return [sha256_hex(data[i * CHUNK:(i + 1) * CHUNK]) for i in range(whole)]


def common_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def frame(obj):
    """One control frame: 4-byte big-endian length + compact JSON."""
    payload = json.dumps(obj, separators=(",", ":")).encode()
    return struct.pack(">I", len(payload)) + payload


class FileClient:
    """One session with the file service."""

    def __init__(self, addr, hash_name="sha256", timeout=30, hello=True):
        self.sock = socket.create_connection(addr, timeout=timeout)
        self.hash_name = hash_name
        if hello:
            reply = self.hello()
            if reply.get("op") != "hello":
                raise ProtocolError(reply)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- frames ---
    def send(self, obj):
        self.sock.sendall(frame(obj))

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                break
            buf += chunk
        return bytes(buf)

    def recv(self):
        """One control message as a dict, or None at a clean end of stream."""
        header = self.recv_exact(4)
        if not header:
            return None
        if len(header) < 4:
            raise ProtocolError("truncated frame header")
        (length,) = struct.unpack(">I", header)
        if length > CONTROL_MAX:
            raise ProtocolError("control frame of %d bytes" % length)
        payload = self.recv_exact(length)
        if len(payload) < length:
            raise ProtocolError("truncated frame")
        return json.loads(payload.decode())

    def request(self, obj):
        self.send(obj)
        return self.recv()

    # --- messages ---
    def hello(self, version=1):
        return self.request({"op": "hello", "version": version, "hash": self.hash_name})

    def put_start(self, name, size, mode=0o644, mtime=None, type_="file"):
        """Send a put; return the server's answer (resume or error)."""
        msg = {"op": "put", "name": name, "type": type_, "size": size, "mode": mode}
        if mtime is not None:
            msg["mtime"] = mtime
        return self.request(msg)

    def put(self, name, data, mode=0o644, mtime=None):
        """A whole upload with resume; returns (resume, offset, final answer).
        The final answer is an error dict when the put is refused."""
        resume = self.put_start(name, len(data), mode, mtime)
        if resume.get("op") != "resume":
            return resume, None, resume
        theirs = resume["digests"]
        offset = common_prefix(theirs, chunk_digests(data, len(theirs))) * CHUNK
        self.send({"op": "from", "offset": offset})
        self.send_raw(data[offset:])
        final = self.request({"op": "end", "digest": sha256_hex(data)})
        return resume, offset, final

    def put_dir(self, name, mode=0o755):
        return self.request({"op": "put", "name": name, "type": "dir", "mode": mode})

    def put_symlink(self, name, target):
        return self.request({"op": "put", "name": name, "type": "symlink", "target": target})

    def get(self, name, part=b""):
        """GET with the local partial data part; returns (answer, data, end):
        data is part's verified prefix + the bytes received."""
        digests = chunk_digests(part)
        answer = self.request({"op": "get", "name": name, "have": len(digests) * CHUNK,
                               "digests": digests})
        if answer.get("op") != "file":
            return answer, None, None
        offset = answer["offset"]
        body = self.recv_exact(answer["size"] - offset)
        end = self.recv()
        return answer, part[:offset] + body, end

    def list(self, name="", recursive=True):
        """All entries of a LIST (joining "more" messages), or the error dict;
        also returns how many messages made the answer."""
        self.send({"op": "list", "name": name, "recursive": recursive})
        entries, messages = [], 0
        while True:
            answer = self.recv()
            messages += 1
            if answer is None or answer.get("op") != "list":
                return answer, messages
            entries += answer["entries"]
            if not answer.get("more"):
                return entries, messages
