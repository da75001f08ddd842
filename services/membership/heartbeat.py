"""The heartbeat message: what one membership process tells the others every interval.

A heartbeat is both a liveness signal and a carrier of the sender's ring id, so
that a node forming a new view can number it above every view its peers have
already announced (the role of corosync's ring sequence number). The
incarnation changes on every process start, which lets peers tell "the same
node kept running" from "the node restarted in between two heartbeats".

The message itself is :class:`paceline.shared.messages.Heartbeat` (its checks:
the node a subject token, a non-empty incarnation, no negative numbers, and
:meth:`~paceline.shared.messages.Heartbeat.on_subject`: a heartbeat published
under another node's subject is a bug or a spoof and must not make that node
look alive).
"""

from __future__ import annotations

import secrets

from paceline.shared.messages import Heartbeat

KIND = Heartbeat.KIND

__all__ = ["KIND", "Heartbeat", "new_incarnation"]


def new_incarnation() -> str:
    """A random id per process start; 64 bits make a collision between restarts irrelevant."""
    return secrets.token_hex(8)
