"""The DC's copy of every node's operation history, fetched from the executors that hold it.

Each node's executor is the source of truth for what runs on its node
(``executor.history.<node>``); the CIB's copy is a mirror written behind it.
Before each plan the DC asks every member's executor at once, with a short
patience: a member whose executor does not answer (restarting, or its node
dying right now) keeps the copy fetched last, and a node that left the
membership keeps its last copy too - what it ran when it was lost is what the
scheduler must fence or recover. A history is dropped when its node was fenced
(it then runs nothing), and all are dropped when the DC role begins or ends:
only copies fetched by the DC acting now are known to be at least as new as
what it acted on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from paceline.shared.cib import Element
from paceline.shared.dc_facts import HISTORY_PATIENCE, executor_history, parse_history
from paceline.shared.messages import ExecutorHistory
from paceline.shared.subjects import Subjects

#: How long the DC waits for the executors' histories before planning with the copies it has.
PATIENCE = HISTORY_PATIENCE
SERVICE = "policy"


@dataclass(frozen=True)
class History:
    """One executor's answer: ``lrm`` parsed once and reused while (incarnation, seq) stays the same."""

    incarnation: str
    seq: int
    lrm: Element


class Histories:
    def __init__(self, nc: Client, subjects: Subjects, log: Any):
        self.nc = nc
        self.s = subjects
        self.log = log
        self.known: dict[str, History] = {}

    async def refresh(self, nodes: Iterable[str], patience: float = PATIENCE) -> set[str]:
        """Ask the executors of ``nodes`` for their histories at once; the nodes that answered."""
        names = sorted(set(nodes))
        replies = await asyncio.gather(*(executor_history(self.nc, self.s, node, SERVICE, patience) for node in names))
        answered = set()
        for node, reply in zip(names, replies, strict=True):
            if reply is not None:
                self._keep(node, reply)
                answered.add(node)
        return answered

    def _keep(self, node: str, reply: ExecutorHistory) -> None:
        old = self.known.get(node)
        if old is not None and (old.incarnation, old.seq) == (reply.incarnation, reply.seq):
            return
        element = parse_history(reply.lrm)
        if element is None:  # a broken answer must not replace a good copy
            self.log.warning("an executor's history is not an <lrm> element", node=node)
            return
        self.known[node] = History(reply.incarnation, reply.seq, element)

    def lrm(self) -> dict[str, Element]:
        """Node -> the ``<lrm>`` element last fetched from its executor."""
        return {node: h.lrm for node, h in self.known.items()}

    def forget(self, node: str) -> None:
        """The node was fenced: it runs nothing now, whatever it ran before."""
        self.known.pop(node, None)

    def forget_all(self) -> None:
        """The DC role began or ended: copies fetched in an earlier tenure are not evidence any more. Laid
        over a lost node they would hide what it ran since (a node lost right after it started something
        would look empty, and be recovered without fencing); without them the CIB's record stands."""
        self.known.clear()
