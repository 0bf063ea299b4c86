# SPDX-License-Identifier: MIT
"""hello_aiohttp.py: the HTTP peer on aiohttp (Debian's python3-aiohttp, /usr/bin/python3),
serving what examples/http_hello.c serves at "/". Prints its port, then serves."""
import asyncio
import socket

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!\n")


async def main():
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
