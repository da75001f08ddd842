"""Shutdown locks: resources of a cleanly stopped node wait for it instead of moving.

With ``shutdown-lock=true`` a sysadmin can take a node down for maintenance
without its resources restarting elsewhere: each resource active there alone
is locked to it, banned from every other node, until the node comes back (it
starts there again) or ``shutdown-lock-limit`` has passed since the shutdown.
The lock outlives the node's departure through the ``shutdown-lock`` attribute
(the lock's start, epoch seconds) the controller leaves on the resource's
history entry. Fencing devices are never locked.
"""

from __future__ import annotations

from collections.abc import Iterator

from paceline.shared.cluster.model import ClusterState, Node, Resource
from paceline.shared.cluster.timespec import interval_ms
from paceline.shared.cluster.values import INT64_MAX, INT64_MIN, is_true, whole_int


def enabled(state: ClusterState) -> bool:
    return is_true(state.options.get("shutdown-lock"), False)


def limit_seconds(state: ClusterState) -> float:
    """How long a lock lasts (0: until the node returns)."""
    value = state.options.get("shutdown-lock-limit")
    return interval_ms(value) / 1000 if value else 0.0


def unpack_lock(recorded: str | None, rsc: Resource, node: Node, state: ClusterState) -> None:
    """Take up a lock recorded in a node's history unless it has expired."""
    if not recorded or not enabled(state):
        return
    stamp = whole_int(recorded, None, INT64_MIN, INT64_MAX)
    if stamp is None or stamp == 0:
        return
    since = float(stamp)
    limit = limit_seconds(state)
    if limit > 0 and state.now > since + limit:
        return
    rsc.status.lock_node = node.name
    rsc.status.lock_time = since


def _shutdown_time(node: Node, state: ClusterState) -> float:
    stamp = whole_int(node.attrs.get("shutdown"), None, INT64_MIN, INT64_MAX)
    return state.now if stamp is None else float(stamp)


def lock_bans(state: ClusterState) -> Iterator[tuple[Resource, str]]:
    """(resource, node) pairs the locks ban; locks of resources that are about to stop are taken here."""
    if not enabled(state):
        return
    for rsc in state.primitives():
        if rsc.agent.get("class", "stonith") == "stonith" or rsc.orphan:
            continue
        if rsc.status.lock_node is not None:
            if rsc.status.active_on:      # started elsewhere after all: the lock no longer holds
                rsc.status.lock_node = None
                rsc.status.lock_time = 0.0
        elif len(rsc.status.active_on) == 1:
            node = state.nodes[rsc.status.active_on[0]]
            if node.shutdown and not node.unclean:
                rsc.status.lock_node = node.name
                rsc.status.lock_time = _shutdown_time(node, state)
        if rsc.status.lock_node is None:
            continue
        for name in state.nodes:
            if name != rsc.status.lock_node:
                yield rsc, name


def expiries(state: ClusterState) -> Iterator[float]:
    """When each lock in force runs out (nothing when locks last until the node returns)."""
    limit = limit_seconds(state)
    if limit <= 0:
        return
    for rsc in state.primitives():
        if rsc.status.lock_node is not None:
            yield rsc.status.lock_time + limit
