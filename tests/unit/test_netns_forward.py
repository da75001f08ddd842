"""The netns lab's TCP forwarder, exercised on loopback (entering a namespace is the only part left out)."""

import asyncio
import socket

from paceline.lab.netns_forward import listen, serve


async def echo_upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer everything upper-cased, then close once the client has half-closed."""
    while data := await reader.read(1024):
        writer.write(data.upper())
        await writer.drain()
    writer.write(b"<bye>")
    writer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def through_forwarder(payload: bytes) -> bytes:
    target = await asyncio.start_server(echo_upper, "127.0.0.1", 0)
    target_port = target.sockets[0].getsockname()[1]
    sock = listen(free_port())
    forwarder = asyncio.create_task(serve(sock, "127.0.0.1", target_port))
    try:
        reader, writer = await asyncio.open_connection(sock=socket.create_connection(sock.getsockname()))
        writer.write(payload)
        await writer.drain()
        writer.write_eof()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return answer
    finally:
        forwarder.cancel()
        target.close()
        await target.wait_closed()


def test_bytes_go_both_ways_and_half_close_is_passed_on():
    payload = b"ping " * 50_000  # more than one chunk each way
    assert asyncio.run(through_forwarder(payload)) == payload.upper() + b"<bye>"


async def refused() -> bytes:
    sock = listen(free_port())
    forwarder = asyncio.create_task(serve(sock, "127.0.0.1", free_port()))  # nothing listens there
    try:
        reader, writer = await asyncio.open_connection(sock=socket.create_connection(sock.getsockname()))
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return answer
    finally:
        forwarder.cancel()


def test_an_unreachable_target_closes_the_client_connection():
    assert asyncio.run(refused()) == b""
