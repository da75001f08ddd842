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

The dependencies and the tickets' states are read, and the bans, fencing and freezing applied, by
``paceline.shared.cluster.tickets`` (``schedule`` calls it before placing anything; crm_mon's page applies
them too); this module holds what only the scheduler does: refusing promotion.
"""

from __future__ import annotations

from paceline.shared.cluster.model import ClusterState, Resource, Role
from paceline.shared.cluster.scores import INF

__all__ = ["promotion_ban"]


def promotion_ban(state: ClusterState, clone: Resource) -> int:
    """-INFINITY when the promotable ``clone`` depends, for its promoted role, on a ticket that is not
    usable (no instance may be promoted), else 0: Pacemaker's ``pcmk__require_promotion_tickets``."""
    for dep in state.rsc_tickets:
        if dep.rsc is clone and dep.role == Role.PROMOTED and not dep.ticket.usable:
            return -INF
    return 0
