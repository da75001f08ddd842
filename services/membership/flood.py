"""Telling a node's heartbeats from a flood on its subject.

A node sends one heartbeat per interval (10 a second by default). Only that
node's credential may publish on its subject, so many more is a broken or
compromised node. Reading a flood is what hurts: nats-py parses every message
on the connection that receives it, and 150,000 of them cost a membership
process about a second of CPU, during which its own heartbeats and those of
every other node wait. Bounded queues drop the excess but not that cost.

So a subject over the rate is not listened to for a while: membership closes
the connection that carries it (what is buffered unread goes with it) and
follows the subject again after a pause. The flooding node is not heard
meanwhile and leaves the view, as any node that cannot be heard does.

Pure: the caller supplies the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: How many times the normal heartbeat rate a subject may carry before it counts as a flood (restarts,
#: reconnects and bursts after a pause send a few extra; a flood sends thousands).
RATE_FACTOR = 20
#: How long a flooded subject is not listened to, in token timeouts.
PAUSE_TOKENS = 5


@dataclass
class FloodGuard:
    """Counts one subject's messages per one-second window."""

    heartbeat_interval: float
    window_start: float = 0.0
    count: int = 0
    limit: int = field(init=False)

    def __post_init__(self) -> None:
        self.limit = max(10, round(RATE_FACTOR / self.heartbeat_interval))

    def flooded(self, now: float) -> bool:
        """Count one message at ``now``; True once this window carried more than :attr:`limit`."""
        if now - self.window_start >= 1.0:
            self.window_start, self.count = now, 0
        self.count += 1
        return self.count > self.limit


def pause(token_timeout: float) -> float:
    """How long to stop listening to a flooded subject."""
    return PAUSE_TOKENS * token_timeout
