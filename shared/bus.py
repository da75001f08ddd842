"""The bus as a client sees it: connecting, requests with Paceline's envelope, and the error types.

:func:`call` sends a typed request (:mod:`paceline.shared.messages`) and reads
the reply into its class; :func:`request` is the same exchange with plain maps,
for tools and tests that speak to the bus without the message classes.

The service side (micro-service endpoints, subscriptions that count and drop
malformed input) lives in :mod:`paceline.shared.micro`; it is reachable as
``bus.MicroService``/``bus.subscribe`` too, but loaded only when used, so that a
one-shot CLI does not pay for metrics and logging it never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from paceline.shared import codec

if TYPE_CHECKING:  # nats-py (and asyncio) cost ~80 ms to import: loaded only when a connection is made
    from nats.aio.client import Client
    from paceline.shared.credentials import ClientCredential
    from paceline.shared.messages import Message

R = TypeVar("R", bound="Message")

_SERVICE_SIDE = ("MicroService", "subscribe", "count_malformed")


def __getattr__(name: str) -> Any:
    if name in _SERVICE_SIDE:
        from paceline.shared import micro

        return getattr(micro, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _log() -> Any:
    import structlog

    return structlog.get_logger()

Body = dict[str, Any]


class UserError(Exception):
    """A request the caller got wrong; its message goes back to them verbatim."""

    def __init__(self, message: str, code: str = "bad-request", details: Body | None = None):
        super().__init__(message)
        self.code = code
        self.details = details or {}


class RemoteError(Exception):
    """The service answered a request with an error reply."""

    def __init__(self, message: str, code: str, details: Body | None = None):
        super().__init__(message)
        self.code = code
        self.details = details or {}


class BusUnavailable(Exception):
    """No server, or no service answering on a subject."""


class NoAnswer(BusUnavailable):
    """A request went out and no answer came: what it asked for may or may not have been done."""


async def connect(url: str, name: str, *, connect_timeout: float = 2.0,
                  retry_forever: bool = True, credential: ClientCredential | None = None) -> Client:
    """Connect with reconnects on; services keep retrying (and say so), a CLI fails fast and quietly.

    ``url`` may list several servers, comma-separated (one per machine): nats-py tries them in order
    and, after a loss, reconnects to any server of the cluster it has heard of. With a ``credential``
    the connection is TLS, trusting only the cluster's CA, and the user proves its nkey.
    """

    seen: list[BaseException] = []

    async def on_error(exc: Exception) -> None:
        if type(exc).__name__ == "SlowConsumerError":
            _count_slow_consumer(name, exc)
            return
        seen.append(exc)
        if retry_forever:
            _log().warning("bus error", error=str(exc))

    async def on_disconnect() -> None:
        if retry_forever:
            _log().warning("bus disconnected")

    async def on_reconnect() -> None:
        _log().info("bus reconnected")

    import nats

    auth: dict[str, Any] = {}
    if credential is not None:
        _quiet_tls_close()
        auth = {"tls": credential.ssl_context(), "nkeys_seed_str": credential.seed(),
                "inbox_prefix": credential.inbox_prefix}
    import asyncio

    servers = [part.strip() for part in url.split(",") if part.strip()] or [url]
    connecting = nats.connect(
        servers, name=name, dont_randomize=True, connect_timeout=connect_timeout, allow_reconnect=True,
        max_reconnect_attempts=-1 if retry_forever else 0, reconnect_time_wait=0.25,
        ping_interval=5, max_outstanding_pings=3,
        error_cb=on_error, disconnected_cb=on_disconnect, reconnected_cb=on_reconnect, **auth,
    )
    try:
        if retry_forever:
            return await connecting
        # A server that wants TLS from a client without credentials makes nats-py retry its handshake for
        # ever: a one-shot client gives up after every server had its chance.
        return await asyncio.wait_for(connecting, connect_timeout * (len(servers) + 1))
    except Exception as exc:
        cause = seen[-1] if isinstance(exc, asyncio.TimeoutError) and seen else exc
        raise BusUnavailable(f"cannot reach the bus at {url}: {refusal(cause, credential)}") from None


_slow_lines: Any = None  # a logs.Sparse, made on the first drop (a one-shot CLI never loads logs)


def _count_slow_consumer(client: str, exc: Exception) -> None:
    """A subscription's pending limit was reached and nats-py dropped a message: count it, log it sparingly
    (a flood drops thousands: one line per subject per 10 s)."""
    global _slow_lines
    from paceline.shared import logs, metrics

    subject = str(getattr(exc, "subject", "") or "?")
    metrics.SLOW_CONSUMER.labels(client, subject).inc()
    _slow_lines = _slow_lines or logs.Sparse()
    unlogged = _slow_lines.due(subject)
    if unlogged is not None:
        _log().warning("messages dropped: a handler fell behind (slow consumer)", subject=subject, client=client,
                       **({"also_dropped_since_last_line": unlogged} if unlogged else {}))


def _quiet_tls_close() -> None:
    """asyncio logs "returning true from eof_received() has no effect when using ssl" each time a TLS connection
    is closed by the server (nats-py's protocol returns True there); it is harmless and would reach users."""
    import logging

    logger = logging.getLogger("asyncio")
    if not any(getattr(f, "paceline_tls", False) for f in logger.filters):
        def drop(record: logging.LogRecord) -> bool:
            return "eof_received() has no effect when using ssl" not in record.getMessage()

        drop.paceline_tls = True  # type: ignore[attr-defined]
        logger.addFilter(drop)


def refusal(exc: BaseException, credential: ClientCredential | None) -> str:
    """Why a connection failed, saying which credential is missing or was refused."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if any(word in lowered for word in ("authorization", "authentication", "tls", "ssl", "certificate")):
        if credential is None:
            return (f"{text}: the bus requires a credential and none was given (set PACELINE_CREDENTIALS to the "
                    "directory 'paceline keygen' made)")
        return f"{text}: user {credential.user!r} ({credential.seed_file}) was refused"
    return text


async def request(nc: Client, subject: str, kind: str, body: Body | None = None,
                  timeout: float = 5.0) -> Body:
    """Send a request envelope and return the reply body; error replies raise RemoteError."""
    import nats.errors

    try:
        msg = await nc.request(subject, codec.encode(kind, body), timeout=timeout)
    except nats.errors.NoRespondersError:
        raise BusUnavailable(f"no service answers on {subject}") from None
    except (TimeoutError, nats.errors.TimeoutError, nats.errors.ConnectionClosedError):
        raise NoAnswer(f"no answer on {subject} within {timeout:g}s") from None
    return reply_body(msg.headers, msg.data)


async def call(nc: Client, subject: str, message: Message, reply: type[R], timeout: float = 5.0,
               service: str = "") -> R:
    """Send a typed request and read the reply into ``reply``; error replies raise RemoteError.

    A reply that does not read as ``reply`` is logged, counted for ``service``
    in ``paceline_malformed_messages_total`` and raised as a RemoteError with
    code ``malformed``: the asker handles it as any failed request.
    """
    body = await request(nc, subject, message.KIND, message.to_body(), timeout=timeout)
    try:
        return reply.from_body(body)
    except codec.MalformedMessage as exc:
        from paceline.shared.micro import count_malformed

        count_malformed(service or "client", subject, exc)
        raise RemoteError(f"malformed reply on {subject}: {exc}", "malformed") from None


def reply_body(headers: dict[str, str] | None, data: bytes) -> Body:
    """The body of a reply envelope, whichever client fetched it; error replies raise RemoteError."""
    if headers and headers.get("Nats-Service-Error-Code") and not data:
        raise RemoteError(headers.get("Nats-Service-Error", "service error"), headers["Nats-Service-Error-Code"])
    reply = codec.decode(data)
    if reply.kind == "error":
        from paceline.shared.messages import ErrorReply  # only when there is an error to read: a CLI's fast path

        try:
            error = ErrorReply.from_body(reply.body)
        except codec.MalformedMessage as exc:
            raise RemoteError(f"malformed error reply: {exc}", "malformed") from None
        raise RemoteError(error.message, error.code, error.details or {})
    return reply.body
