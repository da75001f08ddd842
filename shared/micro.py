"""The service side of the bus: micro-service endpoints and event subscriptions with Paceline's glue.

The glue does what every handler would otherwise repeat: decode the envelope
and read the body into the endpoint's or subscription's message class
(:mod:`paceline.shared.messages`), so a handler only ever sees a checked,
typed message; malformed input is logged, counted in
``paceline_malformed_messages_total`` and dropped (events) or answered with
the ``malformed`` error reply (requests) - never a handler exception. It also
times and counts each request and turns a :class:`~paceline.shared.bus.UserError`
into an error reply rather than a crash.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import nats.micro
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.micro.request import Request
from nats.micro.service import EndpointConfig, Service, ServiceConfig
from paceline.shared import codec, logs, metrics
from paceline.shared.bus import BusUnavailable, RemoteError, UserError
from paceline.shared.jetstream import LEADERLESS
from paceline.shared.messages import REPLY, ErrorReply, Message, pack, unpack
from paceline.shared.subjects import SERVICE_NAMES

log = structlog.get_logger()
#: No answer on the bus, JetStream's answers while a stream has no leader (an election after a server was
#: lost), a request's time running out meanwhile: transient, and none of them a bug of the service.
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (BusUnavailable, *LEADERLESS)
#: Error code (and text) of a request that met them.
UNAVAILABLE = "unavailable"
UNAVAILABLE_TEXT = "the cluster's store is not available just now (a bus server was lost); try again shortly"

M = TypeVar("M", bound=Message)
RequestHandler = Callable[[M], Awaitable[Message]]
#: A handler that is also given the request's subject (``MicroService.endpoint(..., with_subject=True)``).
SubjectHandler = Callable[[M, str], Awaitable[Message]]
EventHandler = Callable[[M, str], Awaitable[None]]
Responder = Callable[[Request], Coroutine[Any, Any, None]]
#: Queue group of every endpoint unless told otherwise: one instance answers each request.
DEFAULT_QUEUE = "q"


#: One "dropped malformed message" line per (service, subject) per 10 s; the counter counts every message.
_malformed_lines = logs.Sparse()


def count_malformed(service: str, subject: str, exc: Exception) -> None:
    """Count and log one message that could not be read (nothing else happens to it)."""
    metrics.MALFORMED.labels(service, subject).inc()
    unlogged = _malformed_lines.due((service, subject))
    if unlogged is not None:
        log.warning("dropped malformed message", service=service, subject=subject, error=str(exc),
                    **({"also_dropped_since_last_line": unlogged} if unlogged else {}))


async def subscribe(nc: Client, service: str, subject: str, handler: EventHandler[M], message: type[M],
                    queue: str = "", accept: Callable[[str], bool] | None = None,
                    pending_msgs: int | None = None) -> Any:
    """Subscribe to events of ``message``'s class; bad payloads are counted and dropped, handler failures logged.

    A handler may itself raise MalformedMessage for what only it can judge (a
    heartbeat on another node's subject): that is counted the same way.
    ``accept`` skips messages by subject before anything is decoded (another
    subscription handles them); ``pending_msgs`` bounds what may wait for the
    handler (beyond it nats-py drops, and the drop is counted as a slow consumer).
    """

    async def on_msg(msg: Msg) -> None:
        if accept is not None and not accept(msg.subject):
            return
        try:
            event = unpack(msg.data, message)
            await handler(event, msg.subject)
        except codec.MalformedMessage as exc:
            count_malformed(service, msg.subject, exc)
        except Exception:
            log.exception("event handler failed", subject=msg.subject)

    if pending_msgs is None:
        return await nc.subscribe(subject, queue=queue, cb=on_msg)
    return await nc.subscribe(subject, queue=queue, cb=on_msg, pending_msgs_limit=pending_msgs,
                              pending_bytes_limit=pending_msgs * 4096)


@dataclass
class _Endpoint:
    name: str
    subject: str
    handler: Callable[..., Awaitable[Message]]
    request: type[Message]
    queue: str
    concurrent: bool
    standby: bool
    #: The handler is also given the request's subject (who sent it, where the subject names the sender).
    with_subject: bool = False
    subscription: Any = None


class MicroService:
    """A NATS micro service (discoverable through ``$SRV.PING``) with Paceline's message glue."""

    def __init__(self, nc: Client, service: str, version: str, metadata: dict[str, str] | None = None):
        self.nc = nc
        self.service = service
        self.version = version
        self.metadata = metadata or {}
        self._svc: Service | None = None
        self._endpoints: dict[str, _Endpoint] = {}
        self._tasks: set[asyncio.Task] = set()

    def endpoint(self, name: str, subject: str, handler: RequestHandler[M] | SubjectHandler[M], request: type[M],
                 queue_group: str | None = None, concurrent: bool = False, standby: bool = False,
                 with_subject: bool = False) -> None:
        """Register before :meth:`start`; ``request`` is the message class the handler is given.

        NATS delivers a subscription's messages one at a time; ``concurrent``
        handles each request in its own task instead, for endpoints where one
        slow request (an agent running for its whole timeout) must not hold up
        the others. A ``standby`` endpoint is not served until :meth:`serve`
        turns it on (an instance answers only while it holds a role, e.g. the DC). ``with_subject``: the
        handler is called as ``handler(request, subject)``, for subjects whose tokens name the sender.
        """
        self._endpoints[name] = _Endpoint(name, subject, handler, request, queue_group or DEFAULT_QUEUE,
                                          concurrent, standby, with_subject)

    async def start(self) -> None:
        self._svc = await nats.micro.add_service(
            self.nc, ServiceConfig(name=SERVICE_NAMES[self.service], version=self.version,
                                   description=f"Paceline {self.service}", metadata=self.metadata))
        for ep in self._endpoints.values():
            if not ep.standby:
                await self._svc.add_endpoint(EndpointConfig(name=ep.name, subject=ep.subject,
                                                             handler=self._responder(ep), queue_group=ep.queue))
        # The subscriptions are only buffered so far: once start() returns, a request from any other
        # connection must find the endpoints (not "no responders" because the server has not seen them yet).
        await self.nc.flush()
        metrics.UP.labels(self.service).set(1)

    async def serve(self, name: str, on: bool) -> None:
        """Start or stop answering a ``standby`` endpoint (a plain subscription with the same glue)."""
        ep = self._endpoints[name]
        if on and ep.subscription is None:
            respond = self._responder(ep)

            async def on_msg(msg: Msg) -> None:
                await respond(Request(msg))

            # No flush: a role change must never wait on the bus (the DC's campaign calls this on its clock).
            ep.subscription = await self.nc.subscribe(ep.subject, queue=ep.queue, cb=on_msg)
        elif not on and ep.subscription is not None:
            sub, ep.subscription = ep.subscription, None
            await sub.unsubscribe()

    def _responder(self, ep: _Endpoint) -> Responder:
        handle = self._wrap(ep)
        return self._spawner(handle) if ep.concurrent else handle

    def _spawner(self, handle: Responder) -> Responder:
        async def spawn(req: Request) -> None:
            task = asyncio.create_task(handle(req))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return spawn

    async def stop(self) -> None:
        metrics.UP.labels(self.service).set(0)
        # Requests still running (an agent mid-start) are cancelled and awaited, so that whatever they
        # spawned is gone before the service exits rather than finishing behind its back.
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for name in self._endpoints:
            try:
                await self.serve(name, False)
            except Exception as exc:  # the connection may already be gone at shutdown
                log.debug("standby endpoint not unsubscribed", endpoint=name, error=str(exc))
        if self._svc is not None:
            await self._svc.stop()

    def _wrap(self, ep: _Endpoint) -> Responder:
        async def handle(req: Request) -> None:
            started = time.perf_counter()
            outcome = "ok"
            try:
                request = unpack(req.data, ep.request)
                answer = await (ep.handler(request, req.subject) if ep.with_subject else ep.handler(request))
                reply = pack(answer, REPLY)
            except codec.MalformedMessage as exc:
                count_malformed(self.service, req.subject, exc)
                outcome = "malformed"
                reply = pack(ErrorReply("malformed", f"malformed request: {exc}"))
            except UserError as exc:
                outcome = "rejected"
                reply = pack(ErrorReply(exc.code, str(exc), exc.details))
            except RemoteError as exc:  # a service this one asked refused or failed: pass its answer on
                outcome = "error"
                log.warning("a request this one depends on failed", endpoint=ep.name, code=exc.code, error=str(exc))
                reply = pack(ErrorReply(exc.code, str(exc), exc.details))
            except STORE_UNAVAILABLE as exc:  # a fault of the bus, not of this service
                outcome = "error"
                log.warning("the bus or its store did not answer", endpoint=ep.name,
                            error=str(exc) or type(exc).__name__)
                reply = pack(ErrorReply(UNAVAILABLE, f"{UNAVAILABLE_TEXT} ({str(exc) or type(exc).__name__})"))
            except Exception as exc:
                log.exception("request handler failed", endpoint=ep.name)
                outcome = "error"
                reply = pack(ErrorReply("internal", f"internal error: {exc}"))
            metrics.REQUESTS.labels(self.service, ep.name, outcome).inc()
            metrics.REQUEST_SECONDS.labels(self.service, ep.name).observe(time.perf_counter() - started)
            await req.respond(reply)

        return handle


async def unanswered(nc: Client, nodes: set[str], services: tuple[str, ...], wait: float = 0.3) -> set[tuple[str, str]]:
    """The (node, service) pairs of ``nodes`` that did not answer a micro-service PING within ``wait``: a
    service still opening its bucket has not started its endpoints, so this is "up" as clients see it."""
    import json

    from paceline.shared.subjects import SERVICE_NAMES

    missing = {(node, svc) for node in nodes for svc in services}
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    try:
        for svc in services:
            await nc.publish(f"$SRV.PING.{SERVICE_NAMES[svc]}", b"", reply=inbox)
        deadline = time.monotonic() + wait
        while missing and (left := deadline - time.monotonic()) > 0:
            try:
                msg = await sub.next_msg(timeout=left)
            except TimeoutError:
                break
            try:
                info = json.loads(msg.data)
                service = info.get("name", "").removeprefix("paceline-")
                missing.discard(((info.get("metadata") or {}).get("node", ""), service))
            except (ValueError, AttributeError):
                continue
    finally:
        await sub.unsubscribe()
    return missing
