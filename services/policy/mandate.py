"""The DC's mandate: what its own node's membership view says, stamped on every request it sends.

A policy instance is the DC exactly while its node's current view elects it
(``MembershipViewMessage.dc``, decided by membership). Its requests carry the
view's ring id as the term (for logs and events), its name and the view's
members; an executor acts on them only when its own node's view agrees
(``paceline.shared.admission``).
"""

from __future__ import annotations

from dataclasses import dataclass

from paceline.shared.messages import MembershipViewMessage


@dataclass(frozen=True)
class Mandate:
    dc: str
    term: int
    members: tuple[str, ...]


def mandate_of(me: str, view: MembershipViewMessage | None) -> Mandate | None:
    """The mandate ``view`` gives the policy instance of node ``me``; None when it does not elect it."""
    if view is None or not me or view.dc != me or me not in view.members:
        return None
    return Mandate(dc=me, term=view.ring_id, members=tuple(view.members))
