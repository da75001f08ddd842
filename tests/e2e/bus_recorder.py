"""A record, in arrival order, of the bus events that say what the cluster did: fencing and operation results.

Tests that must show one thing happened before another (a node fenced before
its resources start elsewhere) read the order here rather than from timestamps.
"""

from __future__ import annotations

import asyncio
import threading

from paceline.lab.lab import Lab
from paceline.shared import codec
from paceline.shared.subjects import Subjects


class BusRecorder:
    """Records, in arrival order, every fencing event and every operation result published on the bus."""

    def __init__(self, lab: Lab):
        self.subjects = Subjects(lab.cluster)
        self.lab = lab
        self.events: list[tuple[str, dict]] = []
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        nc = await self.lab.connect("observer", "bus-recorder")

        async def keep(msg) -> None:
            env = codec.decode(msg.data)
            self.events.append((env.kind, env.body))

        await nc.subscribe(self.subjects.fenced, cb=keep)
        await nc.subscribe(self.subjects.executor_events, cb=keep)
        await nc.flush()
        self._ready.set()
        await self._stop.wait()
        await nc.close()

    def __enter__(self) -> BusRecorder:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def fenced(self, target: str) -> list[dict]:
        return [body for kind, body in self.events if kind == "fenced" and body["target"] == target]

    def started(self, rsc: str, since: int) -> list[dict]:
        """Successful starts of ``rsc`` among the events from index ``since`` on."""
        return [body for kind, body in self.events[since:] if kind == "op.result" and body["rsc"] == rsc
                and body["task"] == "start" and body["rc"] == 0]

    def position(self, predicate) -> int | None:
        """Where the first event that ``predicate(kind, body)`` accepts arrived; None if none has."""
        return next((i for i, (kind, body) in enumerate(self.events) if predicate(kind, body)), None)

    def index(self, predicate) -> int:
        found = self.position(predicate)
        assert found is not None, f"no such event among {len(self.events)} recorded"
        return found
