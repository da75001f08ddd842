"""Who is the DC: each node's candidacy number, and the pure rule that turns a view into its DC.

There is no lease. Every node offers itself as a DC candidate while its own
policy instance runs, with a number carried in its heartbeats; the DC of a
view is the member candidate with the lowest ``(number, name)``. Being a pure
function of the view (its members and their numbers) is what makes
:mod:`paceline.shared.admission` safe: one member set elects one DC.

The number is seniority. It is 0 (not a candidate) while the local policy is
silent, and it is *renewed* - set to the ring id of the view that announces
it, which is above every ring id this node has seen - whenever this node's
claim to seniority may have lapsed:

* the local policy became alive (first ``PolicyAlive``, or one with a new
  incarnation: the policy restarted and has lost its state);
* the view's quorum verdict flipped (either way) while the policy is alive.
  Gaining quorum is the spec'd edge; losing it renews too, because a node on
  the minority side may be admitted by the majority again one heartbeat
  *before* it regains quorum itself, and must not come back with the low
  number that made it DC before the split;
* the view shrank to this node alone after losing a peer (a paused node that
  learns from its peers' heartbeats that they dropped it; in a ``two_node``
  cluster it stays quorate alone, so the quorum edge would not tell).

A number renewed while this node's view is not quorate is offset by
:data:`NOVICE`: a node that is starting (it has heard no peer yet, so its ring
id is still low) or is cut off ranks behind every node that holds quorum, and
takes the role only where no such node is a member. Without the offset a
restarted node, whose policy comes up before it hears its peers, joins with
number 2 or so and takes the DC role from the incumbent for a heartbeat, until
its quorum edge renews it.

An incumbent therefore keeps the role when others join or return: their
numbers are renewed above every ring id they heard, and they heard the
incumbent's heartbeats, whose ring ids are never below its number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Added to a number renewed without quorum: such a candidate ranks behind every quorate one.
NOVICE = 1 << 40


def elect(candidates: Mapping[str, int]) -> str:
    """The DC among ``candidates`` (member -> number): the lowest ``(number, name)`` with a number above 0;
    "" when no member runs a policy. Names break ties so that every node elects the same one."""
    standing = [(number, name) for name, number in candidates.items() if number > 0]
    return min(standing)[1] if standing else ""


@dataclass
class Candidacy:
    """This node's candidacy number and the inputs that move it (no I/O: the caller passes the clock).

    Methods that can change the number return True when a renewal is due; the
    tracker then opens a view and calls :meth:`renew` with its ring id, because
    the number must be above every ring id seen and a change of it is a view
    change that peers learn from the next heartbeat.
    """

    token_timeout: float
    number: int = 0
    _policy_incarnation: str = ""
    _policy_heard: float | None = None
    _quorate: bool = False

    def policy_alive(self, now: float) -> bool:
        """Whether the local policy was heard from within the token timeout (as peers are judged)."""
        return self._policy_heard is not None and now - self._policy_heard <= self.token_timeout

    def heard_policy(self, incarnation: str, now: float) -> bool:
        """A ``PolicyAlive`` arrived; True on a rising edge (it was silent, or restarted as a new incarnation)."""
        rising = not self.policy_alive(now) or incarnation != self._policy_incarnation
        self._policy_incarnation = incarnation
        self._policy_heard = max(now, self._policy_heard or now)
        return rising

    def quorum_verdict(self, quorate: bool) -> bool:
        """The quorum verdict of the newest view; True when it flipped while this node is a candidate."""
        flipped = quorate != self._quorate
        self._quorate = quorate
        return flipped and self.number > 0

    def expire(self, now: float) -> bool:
        """Withdraw when the policy fell silent for longer than the token timeout; True if it did just now."""
        if self.number == 0 or self.policy_alive(now):
            return False
        self.number = 0
        return True

    def shift(self, stall: float) -> None:
        """This process itself was stalled: the policy's messages of that time are still unread, not missing."""
        if self._policy_heard is not None:
            self._policy_heard += stall

    def renew(self, ring_id: int, now: float) -> None:
        """Take ``ring_id`` (the new view's, above every ring id seen) as the number, if the policy runs;
        offset by :data:`NOVICE` while this node is not quorate."""
        if not self.policy_alive(now):
            self.number = 0
        else:
            self.number = ring_id if self._quorate else NOVICE + ring_id
