"""The membership view as published on the bus and returned by the query endpoint.

One record joins the two halves corosync reports separately (the ring's member
list and votequorum's verdict) because every consumer (the policy engine above
all) needs both at once and must never combine a member list with the quorum
verdict of another ring. On the wire it is flat:
:class:`paceline.shared.messages.MembershipViewMessage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paceline.membership.quorum import QuorumState
from paceline.shared.messages import MembershipViewMessage

KIND = MembershipViewMessage.KIND


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
    #: The DC this view elects (:func:`paceline.membership.election.elect`); "" when no member runs a policy.
    dc: str = ""

    def to_message(self) -> MembershipViewMessage:
        q = self.quorum
        return MembershipViewMessage(
            node=self.node, incarnation=self.incarnation, ring_id=self.ring_id, members=self.members,
            quorate=q.quorate, total_votes=q.total_votes, expected_votes=q.expected_votes, quorum=q.quorum,
            two_node=q.two_node, waiting_for_all=q.waiting_for_all, joined=self.joined, lost=self.lost,
            restarted=self.restarted, dc=self.dc)

    def to_body(self) -> dict[str, Any]:
        return self.to_message().to_body()

    @classmethod
    def from_message(cls, msg: MembershipViewMessage) -> MembershipView:
        quorum = QuorumState(quorate=msg.quorate, total_votes=msg.total_votes, expected_votes=msg.expected_votes,
                             quorum=msg.quorum, waiting_for_all=msg.waiting_for_all, two_node=msg.two_node)
        return cls(node=msg.node, incarnation=msg.incarnation, ring_id=msg.ring_id, members=msg.members,
                   quorum=quorum, joined=msg.joined, lost=msg.lost, restarted=msg.restarted, dc=msg.dc)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> MembershipView:
        """Read a received view (raises MalformedMessage naming a missing or mistyped field)."""
        return cls.from_message(MembershipViewMessage.from_body(body))

    def same_state(self, other: MembershipView | None) -> bool:
        """Whether publishing ``self`` after ``other`` would tell a subscriber nothing new (the DC counts: a
        policy instance acts on it)."""
        return other is not None and (self.ring_id, self.members, self.quorum, self.dc) == (
            other.ring_id, other.members, other.quorum, other.dc)
