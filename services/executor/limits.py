"""``node-action-limit``: how many operations the DC's requests may run at once on this node.

Pacemaker's controller throttles the jobs it runs per node to
``node-action-limit`` (cluster option; ``PCMK_node_action_limit`` overrides it
per node) and, when that is 0 or unset, to twice the number of cores. Paceline
reads the same cluster option and lets a node attribute ``node-action-limit``
(in the node's ``instance_attributes``) override it for one node. Recurring
monitors already scheduled on the node are not throttled, as in Pacemaker,
where they run inside the executor without passing through the controller.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

OPTION = "node-action-limit"


def default_limit() -> int:
    return 2 * (os.cpu_count() or 1)


def effective_limit(cluster_value: str | None, node_value: str | None = None) -> int:
    """The node attribute wins over the cluster option; 0, unset or garbage means the default."""
    for raw in (node_value, cluster_value):
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            continue
        if value > 0:
            return value
    return default_limit()


class ActionLimit:
    """A counting gate whose size can change while operations wait on it."""

    def __init__(self, limit: int | None = None):
        self.limit = limit or default_limit()
        self.running = 0
        self.peak = 0
        self._changed = asyncio.Condition()

    async def resize(self, limit: int) -> None:
        async with self._changed:
            self.limit = max(1, limit)
            self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self.running < self.limit)
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            async with self._changed:
                self.running -= 1
                self._changed.notify()
