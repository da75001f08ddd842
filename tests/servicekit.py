"""Run a Paceline service in-process (a real service over a real nats-server) for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import structlog
from paceline.shared import bus, config
from paceline.shared.runtime import ServiceContext


@contextlib.asynccontextmanager
async def running(service: str, run: Callable[[ServiceContext], Coroutine[Any, Any, None]], url: str,
                  state_dir: Path, node: str = "", **settings) -> AsyncIterator[ServiceContext]:
    settings.setdefault("exporter_port", -1)  # in-process services: no node exporter on the machine's 9664
    cfg = config.load(env={}, nats_url=url, node=node or None, state_dir=str(state_dir), **settings)
    nc = await bus.connect(url, f"test-{service}")
    ctx = ServiceContext(service=service, cfg=cfg, nc=nc, log=structlog.get_logger().bind(service=service))
    task = asyncio.create_task(run(ctx))
    await asyncio.sleep(0.2)
    if task.done():
        task.result()
    try:
        yield ctx
    finally:
        ctx.stopping.set()
        await asyncio.wait_for(task, 10)
        await nc.close()
