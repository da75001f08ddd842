"""The heartbeat message: what one membership process tells the others every interval.

A heartbeat is both a liveness signal and a carrier of the sender's ring id, so
that a node forming a new view can number it above every view its peers have
already announced (the role of corosync's ring sequence number). The
incarnation changes on every process start, which lets peers tell "the same
node kept running" from "the node restarted in between two heartbeats".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from paceline.shared import codec
from paceline.shared.subjects import check_token

KIND = "heartbeat"


def new_incarnation() -> str:
    """A random id per process start; 64 bits make a collision between restarts irrelevant."""
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Heartbeat:
    node: str
    incarnation: str
    ring_id: int
    seq: int
    votes: int = 1

    def to_body(self) -> dict[str, Any]:
        return {"node": self.node, "incarnation": self.incarnation, "ring_id": self.ring_id,
                "seq": self.seq, "votes": self.votes}

    @classmethod
    def from_body(cls, body: dict[str, Any], subject: str | None = None) -> Heartbeat:
        """Validate a received body; raises MalformedMessage so the bus glue counts and drops it.

        When the subject is given, its last token must name the same node as the
        body: a heartbeat published under another node's subject is a bug or a
        spoof, and either way must not make that node look alive.
        """
        node = codec.field(body, "node", str)
        try:
            check_token(node, "node name")
        except ValueError as exc:
            raise codec.MalformedMessage(str(exc)) from None
        if subject is not None and subject.rsplit(".", 1)[-1] != node:
            raise codec.MalformedMessage(f"heartbeat for node {node!r} arrived on {subject}")
        incarnation = codec.field(body, "incarnation", str)
        if not incarnation:
            raise codec.MalformedMessage("empty incarnation")
        ring_id = codec.field(body, "ring_id", int)
        seq = codec.field(body, "seq", int)
        votes = codec.field(body, "votes", int, 1)
        if ring_id < 0 or seq < 0 or votes < 0:
            raise codec.MalformedMessage("ring_id, seq and votes must not be negative")
        return cls(node=node, incarnation=incarnation, ring_id=ring_id, seq=seq, votes=votes)
