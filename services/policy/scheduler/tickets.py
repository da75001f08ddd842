"""What ``rsc_ticket`` constraints do to the resources that depend on a ticket.

A resource that depends on a ticket may run only while the ticket is granted and not in standby. When it
is not, Pacemaker (``constraints_for_ticket`` in ``pcmk_sched_tickets.c``, applied as the constraints are
unpacked, before anything is placed) works on each primitive below the named resource - a group's members,
a clone's instances - and:

* bans it from every node (``__no_ticket__``, ``__ticket_standby__``), unless the dependency is for the
  promoted role only and its loss-policy is not ``stop`` (then only promotion is refused, below);
* where the ticket is revoked and the primitive is running, applies the ``loss-policy``: ``stop`` bans it
  (``__loss_of_ticket__``); ``demote`` bans it too unless the dependency is for the promoted role;
  ``fence`` bans it and fences every node it runs on ("deadman ticket was lost"); ``freeze`` leaves it
  where it is, unmanaged and blocked. ``fence`` and ``freeze`` act only when the primitive's current role
  is the dependency's role (or the dependency names none).

A promotable clone with a dependency for the promoted role is, besides, kept from promoting any instance
while the ticket is not usable (``pcmk__require_promotion_tickets``).

The dependencies and the tickets' states are read by ``paceline.shared.cluster.tickets``.
"""

from __future__ import annotations

from paceline.shared.cluster.model import ClusterState, Resource, Role
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.tickets import RscTicket

__all__ = ["apply_ticket_constraints", "promotion_ban"]

#: Why a node is fenced when a ticket with loss-policy=fence is revoked (Pacemaker's words).
FENCE_REASON = "deadman ticket was lost"


def apply_ticket_constraints(state: ClusterState) -> None:
    """Every dependency on a ticket that is not usable, applied as Pacemaker applies it while unpacking.

    The bans are location scores for every node (the placement applies them with the other bans found
    while unpacking); fencing marks the nodes unclean before anything is placed, as ``pe_fence_node`` does.
    """
    for dep in state.rsc_tickets:
        if not dep.ticket.usable:
            _constraints_for_ticket(state, dep.rsc, dep)


def _constraints_for_ticket(state: ClusterState, rsc: Resource, dep: RscTicket) -> None:
    """Pacemaker's ``constraints_for_ticket``: recurse to the primitives, then act on each."""
    if rsc.children:
        for child in rsc.children:
            _constraints_for_ticket(state, child, dep)
        return
    ticket = dep.ticket
    if not ticket.granted and rsc.active_on:
        _on_loss(state, rsc, dep)
    elif dep.role != Role.PROMOTED or dep.loss_policy == "stop":
        _ban(rsc, "__no_ticket__" if not ticket.granted else "__ticket_standby__")


def _on_loss(state: ClusterState, rsc: Resource, dep: RscTicket) -> None:
    """The loss-policy of a revoked ticket, for a primitive that is running."""
    policy = dep.loss_policy
    if policy == "stop" or (policy == "demote" and dep.role != Role.PROMOTED):
        _ban(rsc, "__loss_of_ticket__")
    elif policy == "fence" and _role_matches(rsc, dep):
        _ban(rsc, "__loss_of_ticket__")
        for name in rsc.active_on:
            state.nodes[name].mark_unclean(FENCE_REASON)
    elif policy == "freeze" and _role_matches(rsc, dep):
        rsc.managed = False
        rsc.blocked = True


def _role_matches(rsc: Resource, dep: RscTicket) -> bool:
    """Pacemaker's ``ticket_role_matches``: the dependency names no role, or the one the resource has now."""
    return dep.role is None or dep.role == rsc.role


def _ban(rsc: Resource, why: str) -> None:
    """-INFINITY on every node, among the scores found while unpacking (Pacemaker's ``resource_location``
    with no node)."""
    rsc.unpack_scores.append((None, -INF, why))


def promotion_ban(state: ClusterState, clone: Resource) -> int:
    """-INFINITY when the promotable ``clone`` depends, for its promoted role, on a ticket that is not
    usable (no instance may be promoted), else 0: Pacemaker's ``pcmk__require_promotion_tickets``."""
    for dep in state.rsc_tickets:
        if dep.rsc is clone and dep.role == Role.PROMOTED and not dep.ticket.usable:
            return -INF
    return 0
