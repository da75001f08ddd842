"""The node's operation history as the executor holds it: the truth about what ran on this node.

The CIB's copy of a node's status is written through JetStream, which stalls
for seconds while a stream elects a new leader after a machine dies. The DC
must not wait for that to learn what runs where, so the executor keeps the
history itself (a ``node_state`` element in the CIB's own format, changed by
the same status ops it sends to the cib-store) and serves it on
``executor.history``; the CIB is a mirror that may lag behind.

``incarnation`` (random per process start) and ``seq`` (one more per change)
let a reader tell a newer history from an older one, and a restarted executor
(whose history starts empty) from a quiet one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lxml import etree
from paceline.shared import cib, lrm
from paceline.shared.messages import ExecutorHistory

#: Status ops others may write for this node (``resource cleanup`` through the gateway, the fencer's clear)
#: that change what the executor holds: history only goes away behind its back, it is never added.
FOREIGN_KINDS = ("lrm_delete", "lrm_op_delete", "lrm_clear")


def foreign_deletions(ops: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ops of another writer's status patch that the executor's history must follow too."""
    return [op for op in ops if op.get("op") in FOREIGN_KINDS]


class NodeHistory:
    """One node's ``node_state`` (operation records and the transient attributes the executor wrote)."""

    def __init__(self, node: str):
        self.node = node
        self.incarnation = uuid.uuid4().hex[:12]
        self.seq = 0
        self.state = etree.Element("node_state", id=node, uname=node)

    def apply(self, ops: Sequence[Mapping[str, Any]]) -> None:
        """Apply a status patch (raises lrm.PatchError on a bad op, leaving the ops before it applied)."""
        if not ops:
            return
        try:
            lrm.apply_status_ops(self.state, ops)
        finally:
            self.seq += 1  # even a partly applied patch is a change a reader must not mistake for the old state

    def lrm_xml(self) -> str:
        """The ``<lrm>`` element as the CIB would hold it; an empty one when nothing ran since the start."""
        element = self.state.find("lrm")
        if element is None:
            element = etree.Element("lrm", id=self.node)
        return cib.serialize(element, pretty=False)

    def snapshot(self) -> ExecutorHistory:
        """The ``executor.history`` reply."""
        return ExecutorHistory(node=self.node, incarnation=self.incarnation, seq=self.seq, lrm=self.lrm_xml())
