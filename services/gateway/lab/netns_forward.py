"""A TCP forwarder from a loopback port of the root namespace to a port inside a lab namespace.

The netns lab runs each node's nats-server inside the node's namespace (a
witness's in the hub), where the other servers reach it over the lab bridge.
The ``paceline`` command runs in the root namespace, where the lab configures
no address at all; one forwarder per server gives it ``127.0.0.1:PORT``. The
listening socket is bound first, while the process is still in the root
namespace, then the whole (still single-threaded) process enters the server's
namespace, so every connection it opens towards the target is made there.

    python -m paceline.lab.netns_forward --listen PORT --netns NAME --target HOST:PORT
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys

from paceline.lab.netns import NetnsError, enter

CHUNK = 65536


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until EOF, then half-close so the other side sees the end too."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


async def forward(host: str, port: int, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
    try:
        target_r, target_w = await asyncio.open_connection(host, port)
    except OSError:
        client_w.close()
        return
    try:
        await asyncio.gather(pipe(client_r, target_w), pipe(target_r, client_w))
    finally:
        for w in (client_w, target_w):
            w.close()
            with contextlib.suppress(ConnectionError, OSError):
                await w.wait_closed()


def listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(sock: socket.socket, host: str, port: int) -> None:
    server = await asyncio.start_server(lambda r, w: forward(host, port, r, w), sock=sock)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="paceline-netns-forward", description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1 of the root namespace")
    p.add_argument("--netns", required=True, help="namespace in which to connect to the target")
    p.add_argument("--target", required=True, help="HOST:PORT inside that namespace")
    args = p.parse_args(argv)
    host, _, target_port = args.target.rpartition(":")
    try:
        sock = listen(args.listen)
        enter(args.netns)
    except (OSError, NetnsError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sock, host, int(target_port)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
