"""The membership view as published on the bus and returned by the query endpoint.

One record joins the two halves corosync reports separately (the ring's member
list and votequorum's verdict) because every consumer (the policy engine above
all) needs both at once and must never combine a member list with the quorum
verdict of another ring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paceline.membership.quorum import QuorumState

KIND = "membership.view"


@dataclass(frozen=True)
class MembershipView:
    node: str
    incarnation: str
    ring_id: int
    members: tuple[str, ...]
    quorum: QuorumState
    joined: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    restarted: tuple[str, ...] = ()

    def to_body(self) -> dict[str, Any]:
        q = self.quorum
        return {
            "node": self.node,
            "incarnation": self.incarnation,
            "ring_id": self.ring_id,
            "members": list(self.members),
            "quorate": q.quorate,
            "total_votes": q.total_votes,
            "expected_votes": q.expected_votes,
            "quorum": q.quorum,
            "two_node": q.two_node,
            "waiting_for_all": q.waiting_for_all,
            "joined": list(self.joined),
            "lost": list(self.lost),
            "restarted": list(self.restarted),
        }

    def same_state(self, other: MembershipView | None) -> bool:
        """Whether publishing ``self`` after ``other`` would tell a subscriber nothing new."""
        return other is not None and (self.ring_id, self.members, self.quorum) == (
            other.ring_id, other.members, other.quorum)
