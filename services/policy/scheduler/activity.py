"""Where a resource counts as running now, as the history left it.

A primitive active on an unclean node still counts there when it needs
fencing (the node is fenced before it may start elsewhere); otherwise that
node is treated as gone (Pacemaker's ``pe__current_node`` and the
``running_on`` list it reads).
"""

from __future__ import annotations

from paceline.shared.cluster.model import ClusterState, Resource


def current_node(state: ClusterState, rsc: Resource) -> str | None:
    """The node a primitive counts as running on: the source of a partial migration, else the first clean
    one, any one if it requires fencing, else the first it is active on (pe__find_active_on)."""
    if rsc.status.partial_migration is not None and rsc.status.partial_migration[0] in rsc.status.active_on:
        return rsc.status.partial_migration[0]
    for name in rsc.status.active_on:
        if rsc.requires in ("fencing", "unfencing") or not state.nodes[name].unclean:
            return name
    return rsc.status.active_on[0] if rsc.status.active_on else None    # a node fenced for a lost ticket still runs it


def counted_active(state: ClusterState, rsc: Resource) -> list[str]:
    """Every node it counts as active on (more than one: multiply active)."""
    return [n for n in rsc.status.active_on
            if rsc.requires in ("fencing", "unfencing") or not state.nodes[n].unclean]


def is_active(rsc: Resource) -> bool:
    """Is any of its primitives active anywhere?"""
    return any(p.status.active_on for p in rsc.primitives())


def walk(rsc: Resource) -> list[Resource]:
    """The resource and everything inside it, depth first."""
    out = [rsc]
    for child in rsc.children:
        out.extend(walk(child))
    return out
