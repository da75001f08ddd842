"""The service side of the bus: micro-service endpoints and event subscriptions with Paceline's glue.

The glue does the three things every handler would otherwise repeat: decode the
envelope (malformed input is logged, counted in
``paceline_malformed_messages_total`` and dropped), time and count the call,
and turn a :class:`~paceline.shared.bus.UserError` into an error reply rather
than a crash.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import nats.micro
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.micro.request import Request
from nats.micro.service import EndpointConfig, Service, ServiceConfig
from paceline.shared import codec, metrics
from paceline.shared.bus import Body, UserError
from paceline.shared.subjects import SERVICE_NAMES

log = structlog.get_logger()

RequestHandler = Callable[[Body], Awaitable[Body]]
EventHandler = Callable[[Body, str], Awaitable[None]]


def count_malformed(service: str, subject: str, exc: Exception) -> None:
    metrics.MALFORMED.labels(service, subject).inc()
    log.warning("dropped malformed message", subject=subject, error=str(exc))


async def subscribe(nc: Client, service: str, subject: str, handler: EventHandler,
                    expect: str | tuple[str, ...] | None = None, queue: str = "") -> Any:
    """Subscribe to events; bad payloads are counted and dropped, handler failures logged."""

    async def on_msg(msg: Msg) -> None:
        try:
            env = codec.decode(msg.data, expect)
        except codec.MalformedMessage as exc:
            count_malformed(service, msg.subject, exc)
            return
        try:
            await handler(env.body, msg.subject)
        except codec.MalformedMessage as exc:
            count_malformed(service, msg.subject, exc)
        except Exception:
            log.exception("event handler failed", subject=msg.subject)

    return await nc.subscribe(subject, queue=queue, cb=on_msg)


class MicroService:
    """A NATS micro service (discoverable through ``$SRV.PING``) with Paceline's envelope glue."""

    def __init__(self, nc: Client, service: str, version: str, metadata: dict[str, str] | None = None):
        self.nc = nc
        self.service = service
        self.version = version
        self.metadata = metadata or {}
        self._svc: Service | None = None
        self._pending: list[tuple[str, str, RequestHandler, str | None, str | None, bool]] = []
        self._tasks: set[asyncio.Task] = set()

    def endpoint(self, name: str, subject: str, handler: RequestHandler, kind: str | None = None,
                 queue_group: str | None = None, concurrent: bool = False) -> None:
        """Register before :meth:`start`; ``kind`` is the request envelope kind expected.

        NATS delivers a subscription's messages one at a time; ``concurrent``
        handles each request in its own task instead, for endpoints where one
        slow request (an agent running for its whole timeout) must not hold up
        the others.
        """
        self._pending.append((name, subject, handler, kind, queue_group, concurrent))

    async def start(self) -> None:
        self._svc = await nats.micro.add_service(
            self.nc, ServiceConfig(name=SERVICE_NAMES[self.service], version=self.version,
                                   description=f"Paceline {self.service}", metadata=self.metadata))
        for name, subject, handler, kind, queue, concurrent in self._pending:
            wrapped = self._wrap(name, handler, kind)
            await self._svc.add_endpoint(EndpointConfig(
                name=name, subject=subject, handler=self._spawner(wrapped) if concurrent else wrapped,
                queue_group=queue or "q"))
        # The subscriptions are only buffered so far: once start() returns, a request from any other
        # connection must find the endpoints (not "no responders" because the server has not seen them yet).
        await self.nc.flush()
        metrics.UP.labels(self.service).set(1)

    def _spawner(self, handle: Callable[[Request], Awaitable[None]]) -> Callable[[Request], Awaitable[None]]:
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
        if self._svc is not None:
            await self._svc.stop()

    def _wrap(self, name: str, handler: RequestHandler,
              kind: str | None) -> Callable[[Request], Awaitable[None]]:
        async def handle(req: Request) -> None:
            started = time.perf_counter()
            outcome = "ok"
            try:
                env = codec.decode(req.data, kind)
                reply = codec.encode("reply", await handler(env.body))
            except codec.MalformedMessage as exc:
                count_malformed(self.service, req.subject, exc)
                outcome = "malformed"
                reply = codec.encode("error", {"code": "malformed", "message": f"malformed request: {exc}"})
            except UserError as exc:
                outcome = "rejected"
                reply = codec.encode("error", {"code": exc.code, "message": str(exc), "details": exc.details})
            except Exception as exc:
                log.exception("request handler failed", endpoint=name)
                outcome = "error"
                reply = codec.encode("error", {"code": "internal", "message": f"internal error: {exc}"})
            metrics.REQUESTS.labels(self.service, name, outcome).inc()
            metrics.REQUEST_SECONDS.labels(self.service, name).observe(time.perf_counter() - started)
            await req.respond(reply)

        return handle
