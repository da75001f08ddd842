"""A blocking NATS request/reply client on a plain socket, for one-shot CLI commands.

Why it exists: ``paceline status`` is a single request, but importing nats-py
and asyncio costs ~80 ms, four times what the request itself takes. This module
speaks just enough of the NATS client protocol for request/reply - INFO,
CONNECT, SUB, PUB, MSG/HMSG (headers, for "no responders" and service errors),
PING/PONG, +OK and -ERR - and sends CONNECT, SUB and the first PUB in one
write, so a request costs one round trip after the server's greeting.

With a credential (:class:`paceline.shared.credentials.ClientCredential`) it
upgrades to TLS when the server asks for it, trusting only the cluster's CA,
and answers the server's nonce with the user's nkey signature; replies come to
the user's own inbox prefix. It does not do reconnects or subscriptions with
callbacks, nor credentials in the URL: :class:`NeedsFullClient` tells the
caller to use nats-py for what it does not speak.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from paceline.shared.credentials import ClientCredential

CRLF = b"\r\n"
#: Status a NATS server puts in the header of the reply it makes when no one subscribes to a request.
NO_RESPONDERS = "503"


class NeedsFullClient(Exception):
    """The bus wants something this client does not speak (TLS, authentication); use nats-py."""


class QuickBusError(Exception):
    """The bus could not be reached, refused us, or did not answer in time."""


class NoResponders(QuickBusError):
    """Nobody subscribes to the subject the request went to."""


class Refused(QuickBusError):
    """The server answered the request with -ERR: it was not delivered."""


class NoAnswer(QuickBusError):
    """The request went out and no answer came (the connection died, or the time ran out): whatever it asked
    for may or may not have been done."""


class Reply:
    """One message: its payload, its headers (if any) and the status of the header line (``503``)."""

    __slots__ = ("data", "headers", "status")

    def __init__(self, data: bytes, headers: dict[str, str] | None = None, status: str = ""):
        self.data = data
        self.headers = headers
        self.status = status


def split_urls(url: str) -> list[str]:
    """The servers of a comma-separated URL list (a cluster: one bus server per machine), in order."""
    return [part.strip() for part in url.split(",") if part.strip()] or [url]


def parse_url(url: str) -> tuple[str, int]:
    """Host and port of one ``nats://host:port`` URL."""
    first = url.strip()
    if "://" not in first:
        first = f"nats://{first}"
    parts = urlsplit(first)
    if parts.scheme not in ("nats", ""):
        raise NeedsFullClient(f"{parts.scheme}:// URLs need the full client")
    if parts.username or parts.password:
        raise NeedsFullClient("credentials in the URL need the full client")
    try:
        port = parts.port or 4222
    except ValueError:
        raise QuickBusError(f"bad port in NATS URL {url!r}") from None
    return parts.hostname or "127.0.0.1", port


def ascii_bytes(host: str) -> bytes | str:
    try:
        return host.encode("ascii")
    except UnicodeEncodeError:
        return host


def parse_headers(block: bytes) -> tuple[str, dict[str, str]]:
    """The status code and header map of an HMSG header block (``NATS/1.0 503\\r\\nKey: value...``)."""
    lines = block.decode("utf-8", "replace").split("\r\n")
    status_line = lines[0].split(None, 2)
    status = status_line[1] if len(status_line) > 1 else ""
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    return status, headers


class QuickBus:
    """One connection; :meth:`request` may be called many times (a shell session), replies are matched by subject."""

    def __init__(self, url: str, name: str = "paceline-cli", connect_timeout: float = 2.0,
                 credential: ClientCredential | None = None):
        self.url = url
        self.name = name
        self.connect_timeout = connect_timeout
        self.credential = credential
        self.sock: socket.socket | None = None
        self.buf = bytearray()
        self.max_payload = 1 << 20
        prefix = credential.inbox_prefix if credential is not None else "_INBOX"
        self.inbox = f"{prefix}.{os.urandom(8).hex()}"
        self.counter = 0
        self.pending = b""  # CONNECT and SUB, sent together with the first request

    # ------------------------------------------------------------ connection

    def connect(self) -> None:
        """Open the socket and read the server's INFO; CONNECT goes out with the first request.

        With several servers (one per machine), the first that accepts the connection is used: a dead
        machine's server costs one refused connection, not the command.
        """
        if self.sock is not None:
            return
        refused: list[str] = []
        for url in split_urls(self.url):
            host, port = parse_url(url)
            # An ASCII host as bytes: getaddrinfo then skips the idna codec (a 1 ms import). CPython takes bytes
            # there; the type stubs only say str.
            address = cast(str, ascii_bytes(host))
            try:
                sock = socket.create_connection((address, port), timeout=self.connect_timeout)
                break
            except OSError as exc:
                refused.append(f"{url}: {exc.strerror or exc}")
        else:
            raise QuickBusError(f"cannot reach the bus at {'; '.join(refused)}")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        try:
            info = self._read_info(time.monotonic() + self.connect_timeout)
        except TimeoutError:
            self.close()
            raise QuickBusError(f"the bus at {self.url} sent no INFO within {self.connect_timeout:g}s") from None
        except BaseException:
            self.close()
            raise
        if (info.get("tls_required") or info.get("auth_required")) and self.credential is None:
            self.close()  # nats-py knows other ways (credentials in the URL) and says what is missing
            raise NeedsFullClient("the server requires TLS or authentication and no credential was given")
        if not info.get("headers"):
            self.close()
            raise NeedsFullClient("the server does not support headers (no-responders replies)")
        if info.get("tls_required"):
            self._start_tls(host)
        self.max_payload = int(info.get("max_payload") or self.max_payload)
        options: dict[str, object] = {
            "verbose": False, "pedantic": False, "tls_required": bool(info.get("tls_required")), "name": self.name,
            "lang": "python-quickbus", "version": "1", "protocol": 1, "headers": True, "no_responders": True}
        if self.credential is not None and info.get("nonce"):
            options["nkey"] = self.credential.public_key()
            options["sig"] = self.credential.sign(str(info["nonce"]))
        self.pending = b"CONNECT " + json.dumps(options, separators=(",", ":")).encode() + CRLF
        self.pending += f"SUB {self.inbox}.* 1".encode() + CRLF

    def _start_tls(self, host: str) -> None:
        """Upgrade the connection after INFO, as NATS does, trusting only the cluster's CA."""
        import ssl

        assert self.sock is not None and self.credential is not None
        try:
            self.sock = self.credential.ssl_context().wrap_socket(self.sock, server_hostname=host)
        except (ssl.SSLError, OSError) as exc:
            self.close()
            raise QuickBusError(f"TLS with the bus at {self.url} failed: {exc}") from None

    def _read_info(self, deadline: float) -> dict:
        line = self._read_line(deadline)
        op, _, rest = line.partition(b" ")
        if op.upper() != b"INFO":
            raise QuickBusError(f"the bus at {self.url} did not greet with INFO (got {line[:40]!r})")
        try:
            return json.loads(rest)
        except ValueError:
            raise QuickBusError(f"unreadable INFO from the bus at {self.url}") from None

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None
                self.buf.clear()

    def _drop_if_closed(self) -> None:
        """Notice that the server closed an idle connection, before anything of the next request is sent.

        A shell left alone longer than the server's PING patience gets its
        connection dropped (nothing reads the PINGs between requests). Taking in
        what is waiting - without blocking - shows an end of stream; the request
        then goes out on a new connection, which is safe because none of it left.
        """
        if self.sock is None:
            return
        self.sock.setblocking(False)
        try:
            while chunk := self.sock.recv(65536):
                self.buf += chunk
        except (BlockingIOError, InterruptedError):
            return  # nothing more waiting: the connection is alive as far as anyone can tell
        except OSError as exc:
            if type(exc).__name__ == "SSLWantReadError":  # the same, over TLS (ssl is imported only with TLS)
                return
        self.close()

    # ------------------------------------------------------------ request/reply

    def request(self, subject: str, payload: bytes, timeout: float = 5.0) -> Reply:
        """Publish ``payload`` to ``subject`` with a fresh reply subject and wait for the first reply."""
        self._drop_if_closed()
        self.connect()
        if len(payload) > self.max_payload:
            raise QuickBusError(f"request of {len(payload)} bytes exceeds the bus's limit of {self.max_payload}")
        self.counter += 1
        reply_to = f"{self.inbox}.{self.counter}"
        frame = self.pending + f"PUB {subject} {reply_to} {len(payload)}".encode() + CRLF + payload + CRLF
        self.pending = b""
        try:
            self._send(frame)
            deadline = time.monotonic() + timeout
            while True:
                msg_subject, reply = self._read_message(deadline, subject, timeout)
                if msg_subject != reply_to:
                    continue  # a late answer to an earlier request that timed out
                if reply.status == NO_RESPONDERS and not reply.data:
                    raise NoResponders(f"no service answers on {subject}")
                return reply
        except (NoResponders, Refused):
            raise
        except QuickBusError as exc:  # sent, or maybe sent: the request may have been carried out
            raise NoAnswer(str(exc)) from None

    def _send(self, data: bytes) -> None:
        assert self.sock is not None
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.close()
            raise QuickBusError(f"lost the bus at {self.url}: {exc.strerror or exc}") from None

    def _read_message(self, deadline: float, subject: str, timeout: float) -> tuple[str, Reply]:
        """Read protocol lines until a MSG/HMSG arrives; answer PINGs, raise on -ERR."""
        while True:
            try:
                line = self._read_line(deadline)
            except TimeoutError:
                raise QuickBusError(f"no answer on {subject} within {timeout:g}s") from None
            op, _, rest = line.partition(b" ")
            op = op.upper()
            if op == b"MSG":
                args = rest.split()
                return args[0].decode(), Reply(self._read_payload(int(args[-1]), deadline))
            if op == b"HMSG":
                args = rest.split()
                header_len, total = int(args[-2]), int(args[-1])
                body = self._read_payload(total, deadline)
                status, headers = parse_headers(body[:header_len])
                return args[0].decode(), Reply(body[header_len:], headers, status)
            if op == b"PING":
                self._send(b"PONG" + CRLF)
            elif op == b"-ERR":
                self.close()
                raise Refused(f"the bus refused the request: {rest.decode(errors='replace').strip(chr(39))}")
            # +OK, PONG and INFO updates need no action

    def _fill(self, deadline: float) -> None:
        assert self.sock is not None
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise
        except OSError as exc:
            self.close()
            raise QuickBusError(f"lost the bus at {self.url}: {exc.strerror or exc}") from None
        if not chunk:
            self.close()
            raise QuickBusError(f"the bus at {self.url} closed the connection")
        self.buf += chunk

    def _read_line(self, deadline: float) -> bytes:
        while (end := self.buf.find(CRLF)) < 0:
            self._fill(deadline)
        line = bytes(self.buf[:end])
        del self.buf[:end + 2]
        return line

    def _read_payload(self, size: int, deadline: float) -> bytes:
        while len(self.buf) < size + 2:
            self._fill(deadline)
        data = bytes(self.buf[:size])
        del self.buf[:size + 2]
        return data

    def __enter__(self) -> QuickBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
