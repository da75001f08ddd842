"""The DC's writes to the CIB, made in the background and in order, retried until they land.

What the DC records (who is DC, quorum, a fenced node's state, nodes nobody
can see) is for readers of the CIB - ``crm status``, exporters, the next DC.
The DC itself plans from what it knows (``overlay.py``), so none of these
writes may hold up recovery while JetStream elects a leader: they are queued
and written one after the other, each retried until the cib-store takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from paceline.shared import bus
from paceline.shared.messages import CibWriteReply, Message
from paceline.shared.micro import UNAVAILABLE
from paceline.shared.subjects import Subjects

FIRST_BACKOFF = 0.1
MAX_BACKOFF = 1.0
#: Error codes that mean "not now" (no JetStream leader; a concurrent write won): the same write is tried again.
RETRY_CODES = (UNAVAILABLE, "conflict", "timeout")
SERVICE = "policy"


@dataclass(frozen=True)
class Write:
    endpoint: str  # the cib-store endpoint: "patch", "cluster"
    message: Message
    what: str  # for the logs


class CibRecorder:
    def __init__(self, nc: Client, subjects: Subjects, log: Any):
        self.nc = nc
        self.s = subjects
        self.log = log
        self.queue: asyncio.Queue[Write] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def record(self, endpoint: str, message: Message, what: str) -> None:
        """Queue one write; it lands after every write queued before it."""
        self.queue.put_nowait(Write(endpoint, message, what))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="policy-cib-recorder")

    @property
    def pending(self) -> int:
        return self.queue.qsize()

    def drop(self, endpoint: str) -> int:
        """Forget the queued writes to ``endpoint`` (a DC that stepped down must not record itself as DC
        after its successor did); returns how many were dropped. The write under way, if any, still lands."""
        queued = self._drain_now()
        kept = [w for w in queued if w.endpoint != endpoint]
        for write in kept:
            self.queue.put_nowait(write)
        return len(queued) - len(kept)

    def _drain_now(self) -> list[Write]:
        taken = []
        while not self.queue.empty():
            taken.append(self.queue.get_nowait())
        return taken

    async def _drain(self) -> None:
        while not self.queue.empty():
            write = self.queue.get_nowait()
            await self._write(write)

    async def _write(self, write: Write) -> None:
        backoff = FIRST_BACKOFF
        while True:
            try:
                await bus.call(self.nc, self.s.cib(write.endpoint), write.message, CibWriteReply, service=SERVICE)
                return
            except (bus.BusUnavailable, bus.RemoteError) as exc:
                if isinstance(exc, bus.RemoteError) and exc.code not in RETRY_CODES:
                    # refused for what it says (a bad patch): retrying would not change that
                    self.log.error("the CIB refused a record of the DC", what=write.what, error=str(exc),
                                   code=exc.code)
                    return
                self.log.warning("cannot record in the CIB yet; retrying", what=write.what, error=str(exc),
                                 retry_in=backoff)
            await asyncio.sleep(backoff)
            backoff = min(2 * backoff, MAX_BACKOFF)

    async def close(self, patience: float = 2.0) -> None:
        """Give queued writes a moment to land (shutdown), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._task), patience)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
