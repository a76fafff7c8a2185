#!/usr/bin/env python3
"""socketserver_echo: the seeds' threaded server — socketserver's
ThreadingTCPServer with a StreamRequestHandler that writes back what it
reads, one thread per connection.

Benchmark anchor for bench/models.sh (stdlib only). Two settings differ from
the defaults, for a like-for-like comparison: the listen backlog is 511
(sockkit's default; socketserver's is 5, which stalls 1,000 simultaneous
connects) and handler threads are daemons.

usage: socketserver_echo.py [PORT]     (default 0: an ephemeral port)
Binds 127.0.0.1 only and prints "echo listening on tcp:127.0.0.1:PORT".
"""
import socketserver
import sys


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            data = self.rfile.read1(65536)  # what has arrived, without waiting for more
            if not data:
                break
            self.wfile.write(data)


class EchoServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 511


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with EchoServer(("127.0.0.1", port), EchoHandler) as server:
        print("echo listening on tcp:127.0.0.1:%d" % server.server_address[1], flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
