"""The CIB's copy of the node's history, written in the background.

The executor's own history (:mod:`paceline.executor.history`) is the truth
and the DC's answer never waits for the CIB: a cib-store write goes through
JetStream, which stalls for seconds while a stream elects a new leader. So each
status patch the executor applies locally is queued here, and one writer task
sends the queue in order, coalescing whatever has piled up into one patch. A
write that fails (no cib-store, no JetStream leader) is retried for ever with
a short backoff; nothing queued is ever dropped, so the CIB catches up with
every change once it can be written again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from paceline.shared import bus

#: Sends one status patch to the cib-store (raises bus.BusUnavailable / bus.RemoteError when it cannot).
Send = Callable[[list[dict[str, Any]]], Awaitable[None]]

#: Backoff between attempts while the CIB cannot be written: quick to notice a new JetStream leader (elections
#: take seconds), without hammering the bus during a long outage.
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 1.0
#: How often the warning that the CIB still cannot be written is repeated.
WARN_EVERY = 10.0
#: Ops per coalesced patch at most, so that a long outage's backlog still fits in bus messages.
MAX_BATCH_OPS = 1000


class CibMirror:
    """A FIFO of status patches and the one task that writes them, oldest first."""

    def __init__(self, send: Send, log: Any = None):
        self._send = send
        self.log = log or structlog.get_logger().bind(service="executor")
        self._queue: deque[list[dict[str, Any]]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Patches queued and not yet written (including one being written)."""
        return len(self._queue)

    def put(self, ops: Sequence[Mapping[str, Any]]) -> None:
        """Queue one status patch behind every earlier one."""
        if not ops:
            return
        self._queue.append([dict(op) for op in ops])
        self._idle.clear()
        self._wake.set()

    def start(self) -> None:
        """Start the writer (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cib mirror")

    async def flush(self, within: float) -> bool:
        """Wait until everything queued so far is written; False when ``within`` seconds were not enough."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    async def close(self, within: float) -> None:
        """Give the queue ``within`` seconds to drain, then stop the writer (what is left is lost with the
        process: a restarted executor clears the node's history anyway)."""
        if not await self.flush(within):
            self.log.warning("stopping with CIB writes still queued", patches=self.pending)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _batch(self) -> tuple[list[dict[str, Any]], int]:
        """The oldest queued patches joined into one (in order), and how many patches that is."""
        ops: list[dict[str, Any]] = []
        taken = 0
        for patch in self._queue:
            if taken and len(ops) + len(patch) > MAX_BATCH_OPS:
                break
            ops.extend(patch)
            taken += 1
        return ops, taken

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                ops, taken = self._batch()
                await self._deliver(ops)
                for _ in range(taken):  # only now: a patch leaves the queue once the CIB has it
                    self._queue.popleft()
            self._idle.set()

    async def _deliver(self, ops: list[dict[str, Any]]) -> None:
        """Write one patch, retrying until the cib-store takes it."""
        delay, failing_since, warned = FIRST_BACKOFF, 0.0, 0.0
        while True:
            try:
                await self._send(ops)
            except (bus.BusUnavailable, bus.RemoteError) as exc:
                now = time.monotonic()
                failing_since = failing_since or now
                if now - warned >= WARN_EVERY:
                    warned = now
                    self.log.warning("cannot write this node's history to the CIB yet; retrying",
                                     error=str(exc), code=getattr(exc, "code", None), patches=self.pending,
                                     failing_s=round(now - failing_since, 1))
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            if failing_since:
                self.log.info("writing this node's history to the CIB again", ops=len(ops), patches=self.pending,
                              after_s=round(time.monotonic() - failing_since, 1))
            return
