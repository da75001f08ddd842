"""Recurring monitors: repeat an operation locally and report only when its answer changes.

Like Pacemaker's executor, the DC asks once and the node keeps watching: each
run starts ``interval`` after the previous one finished, and the result is
recorded only when rc or execution status differs from the last recorded one,
so a healthy resource costs no history change and no CIB write. A report that
fails (it only publishes: the CIB is written in the background) is retried at
the next run rather than lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from paceline.executor.metrics import RECURRING_MONITORS
from paceline.executor.operation import Operation
from paceline.shared.lrm import OpResult

log = structlog.get_logger()

RunOnce = Callable[[Operation], Awaitable[OpResult]]
Report = Callable[[Operation, OpResult], Awaitable[None]]


@dataclass
class _Monitor:
    op: Operation
    last: OpResult
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    #: Set to run the next repeat now instead of at the end of the interval (:meth:`RecurringMonitors.wake`).
    due: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


def _changed(old: OpResult, new: OpResult) -> bool:
    return (old.rc, old.op_status) != (new.rc, new.op_status)


class RecurringMonitors:
    """The recurring operations of one node, keyed by (resource, task, interval)."""

    def __init__(self, run_once: RunOnce, report: Report, on_change: Callable[[list[Operation]], None] | None = None):
        self._run_once = run_once
        self._report = report
        self._on_change = on_change
        self._monitors: dict[tuple[str, str, int], _Monitor] = {}

    def operations(self) -> list[Operation]:
        return [self._monitors[k].op for k in sorted(self._monitors)]

    def _changed_schedule(self) -> None:
        if self._on_change is not None:
            self._on_change(self.operations())

    def __len__(self) -> int:
        return len(self._monitors)

    def keys(self) -> list[tuple[str, str, int]]:
        return sorted(self._monitors)

    def schedule(self, op: Operation, first: OpResult) -> None:
        """Start repeating ``op``; ``first`` is the already recorded result of its first run."""
        key = (op.rsc, op.task, op.interval_ms)
        old = self._monitors.pop(key, None)
        if old is not None and old.task is not None:
            old.task.cancel()
        mon = _Monitor(op, first)
        mon.task = asyncio.create_task(self._loop(mon), name=f"monitor {op.key}")
        self._monitors[key] = mon
        RECURRING_MONITORS.inc()
        if old is not None:
            RECURRING_MONITORS.dec()
        self._changed_schedule()

    async def cancel(self, rsc: str, task: str | None = None, interval_ms: int | None = None) -> list[Operation]:
        """Stop the matching monitors and wait until none of their agent runs is left; returns them."""
        keys = [k for k in self._monitors
                if k[0] == rsc and (task is None or k[1] == task) and (interval_ms is None or k[2] == interval_ms)]
        return await self._cancel_keys(keys)

    async def cancel_all(self, forget: bool = True) -> list[Operation]:
        """Stop every monitor; ``forget=False`` (executor shutdown) keeps them in the saved schedule."""
        return await self._cancel_keys(list(self._monitors), forget)

    async def _cancel_keys(self, keys: list[tuple[str, str, int]], forget: bool = True) -> list[Operation]:
        tasks = []
        cancelled = []
        for key in keys:
            mon = self._monitors.pop(key)
            cancelled.append(mon.op)
            RECURRING_MONITORS.dec()
            if mon.task is not None:
                mon.task.cancel()
                tasks.append(mon.task)
        if keys and forget:
            self._changed_schedule()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        return cancelled

    def wake(self, rsc: str, task: str = "monitor") -> int:
        """Run ``rsc``'s recurring ``task`` now rather than at the end of its interval (what it finds is
        recorded as any repeat's result); returns how many were woken."""
        woken = [mon for key, mon in self._monitors.items() if key[0] == rsc and key[1] == task]
        for mon in woken:
            mon.due.set()
        return len(woken)

    async def _loop(self, mon: _Monitor) -> None:
        interval = mon.op.interval_ms / 1000
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(mon.due.wait(), interval)
            mon.due.clear()
            try:
                result = await self._run_once(mon.op)
                if not _changed(mon.last, result):
                    continue
                result.last_rc_change = int(time.time())
                await self._report(mon.op, result)
                mon.last = result
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("recurring monitor report failed; retrying at the next run",
                            op=mon.op.key, error=str(exc))
