#!/usr/bin/env python3
"""asyncio_echo: an asyncio TCP echo server written the way the Python docs
write it ("Transports and Protocols", TCP Echo Server): a Protocol whose
data_received writes the data back to its transport (without the example's
prints, and without its close after the first message: a connection here
carries many round trips).

Benchmark anchor for bench/models.sh (stdlib only, default event loop).

usage: asyncio_echo.py [PORT]     (default 0: an ephemeral port)
Binds 127.0.0.1 only and prints "echo listening on tcp:127.0.0.1:PORT".
"""
import asyncio
import sys

BACKLOG = 511  # SK_DEFAULT_BACKLOG: the same queue for every server


class EchoServerProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoServerProtocol, "127.0.0.1", port, backlog=BACKLOG)
    print("echo listening on tcp:127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    except KeyboardInterrupt:
        pass
