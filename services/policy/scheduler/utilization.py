"""``placement-strategy`` and utilization: what each node has left while resources are assigned.

Pacemaker's pcmk_sched_utilization.c: with ``utilization``, ``balanced`` or
``minimal`` a resource may only go where every capacity it needs is still
free (a group's first member asks for the members still to place), and ties
between nodes consider what is left (``balanced``) or only the name
(``minimal``). With ``default`` utilization is ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.shared.cluster.model import ClusterState, Resource
from paceline.shared.cluster.scores import INF

if TYPE_CHECKING:
    from paceline.policy.scheduler.placement import Placer


class Capacity:
    """What each node has left of its ``utilization``, in assignment order."""

    def __init__(self, state: ClusterState):
        self.strategy = (state.options.get("placement-strategy") or "default").lower()
        self.active = self.strategy in ("utilization", "balanced", "minimal")
        self.left = {n.name: dict(n.capacity) for n in state.nodes.values()}

    def fits(self, node: str, needs: dict[str, int]) -> bool:
        left = self.left.get(node, {})
        return all(left.get(name, 0) >= amount for name, amount in needs.items())

    def consume(self, node: str, needs: dict[str, int]) -> None:
        left = self.left.setdefault(node, {})
        for name, amount in needs.items():
            left[name] = left.get(name, 0) - amount

    def more_free_first(self, a: str, b: str) -> int:
        """Negative when ``a`` has more left than ``b`` in more of its capacities than the other way round."""
        left_a, left_b = self.left.get(a, {}), self.left.get(b, {})
        names = set(left_a) | set(left_b)
        more = sum(1 for n in names if left_a.get(n, 0) > left_b.get(n, 0))
        less = sum(1 for n in names if left_a.get(n, 0) < left_b.get(n, 0))
        return less - more


def needs(rsc: Resource) -> dict[str, int]:
    """What placing ``rsc`` takes: a group's first member speaks for the members still to place."""
    group = rsc.parent
    parts = [m for m in group.children if not m.assign_done] if group is not None and \
        rsc is group.children[0] else [rsc]
    total: dict[str, int] = {}
    for part in parts:
        for name, amount in part.utilization.items():
            total[name] = total.get(name, 0) + amount
    return total


def ban_insufficient_capacity(p: Placer, rsc: Resource) -> None:
    """Ban the nodes that no longer have room for what ``rsc`` needs."""
    wanted_by_name = needs(rsc)
    if not wanted_by_name:
        return
    for node in list(rsc.allowed):
        if not p.capacity.fits(node, wanted_by_name):
            wanted = ", ".join(f"{k}={v}" for k, v in sorted(wanted_by_name.items()))
            p.set_score(rsc, node, -INF, f"not enough capacity left for {wanted} "
                                         f"(placement-strategy={p.capacity.strategy})")
