# SPDX-License-Identifier: MIT
"""py_echo.py: the echo server on asyncio or uvloop, with streams or protocols (uvloop's own
benchmark servers, reduced). Run with Debian's /usr/bin/python3 for uvloop.
Usage: py_echo.py asyncio|uvloop streams|protocols. Prints its port, then serves."""
import asyncio
import socket
import sys


async def handle(reader, writer):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass                     # the client went away at the end of a run
    writer.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(kind):
    loop = asyncio.get_running_loop()
    if kind == "streams":
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
    else:
        server = await loop.create_server(Echo, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(sys.argv[2]))
