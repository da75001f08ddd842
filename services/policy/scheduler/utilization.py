"""``placement-strategy`` and utilization: what each node has left while resources are assigned.

Pacemaker's pcmk_sched_utilization.c: with ``utilization``, ``balanced`` or
``minimal`` a resource may only go where every capacity it needs is still
free (a group's first member asks for the members still to place), and ties
between nodes consider what is left (``balanced``) or only the name
(``minimal``). With ``default`` utilization is ignored. Capacity is checked for
a resource together with everything mandatorily colocated with it that is
still to be placed; when no node can take them all, the node with the most
capacity left is preferred.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import colocation
from paceline.policy.scheduler.activity import current_node
from paceline.shared.cluster.model import ClusterState, Colocation, Resource, Role
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.values import is_true

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


def sort_resources(p: Placer) -> None:
    """Under a placement strategy, assign in Pacemaker's pcmk__sort_resources order: by priority, then by
    the score on the node each runs on, then by the scores on each node in node order (each resource's
    table with what it is colocated with folded in). A clone is compared as one, by its own table: its
    instances stay together, in their order."""
    state = p.state
    nodes = sorted(state.nodes.values(), key=lambda n: (-(n.base_score if n.available else -INF), n.name.encode()))
    units: dict[str, list[Resource]] = {}
    for rsc in state.resources:
        units.setdefault(rsc.clone_of or rsc.id, []).append(rsc)

    def key(members: list[Resource]) -> tuple[int, ...]:
        clone = state.by_id.get(members[0].clone_of or "")     # by the clone's own table, if in one
        own = _colocated_scores(p, clone if clone is not None else members[0])
        table = {n.name: own.get(n.name, -INF) for n in nodes}
        current = next((current_node(state, part) for rsc in members for part in rsc.primitives()
                        if part.status.active_on), None)
        on_current = table.get(current, -INF) if current is not None else -INF
        return (-members[0].priority, -on_current, *(-table[n.name] for n in nodes))

    ordered = sorted(units.values(), key=key)
    state.resources[:] = [rsc for members in ordered for rsc in members]
    state.forget_order()


def _colocated_scores(p: Placer, rsc: Resource) -> dict[str, int]:
    """The table cmp_resources compares: a group's by its last member (whose colocations reach the others'),
    with what it is colocated with folded in, transitively (add_colocated_node_scores, "this with")."""
    member = rsc.children[-1] if rsc.is_group and rsc.children else rsc
    work = dict(member.place.allowed)
    _fold_primaries(p, member, work, 1.0, {id(member)})
    return work


def _fold_primaries(p: Placer, rsc: Resource, work: dict[str, int], factor: float, merging: set[int]) -> None:
    """Each primary's best score per node attribute, scaled, then its own primaries' (a group's through its
    first member; a clone by its own table, as the shared pcmk__add_colocated_node_scores reads it)."""
    if not p.any_available(work):
        return
    for c in colocation.this_with(p, rsc):
        other = c.primary
        if id(other) in merging:
            continue
        lead = other.children[0] if other.is_group and other.children else other
        scaled = factor * c.score / INF
        merging.add(id(other))
        colocation.add_matching(p, work, lead, c, scaled)
        _fold_primaries(p, lead, work, scaled, merging)
        merging.discard(id(other))


def colocated_resources(p: Placer, rsc: Resource, orig: Resource | None = None,
                        found: list[Resource] | None = None) -> list[Resource]:
    """``rsc`` and everything mandatorily colocated with it, either way, transitively (Pacemaker's
    pcmk__colocated_resources and the group's variant of it: a collocated group brings every member's)."""
    orig = orig or rsc
    found = [] if found is None else found
    if rsc in found:
        return found
    found.append(rsc)
    if rsc.is_group and is_true(rsc.meta.get("collocated"), True):
        for member in rsc.children:
            colocated_resources(p, member, orig, found)
        return found
    for c in colocation.this_with(p, rsc):
        if c.primary is not orig and c.score >= INF and _affects_location(c):
            colocated_resources(p, c.primary, orig, found)
    for c in colocation.with_this(p, rsc):
        if c.dependent is orig or (rsc.is_clone and not c.dependent.is_clone):
            continue
        if c.score >= INF and _affects_location(c):
            colocated_resources(p, c.dependent, orig, found)
    return found


def _affects_location(c: Colocation) -> bool:
    """A colocation limited to a role decides roles, not where the resources go (as previewed before
    assignment by pcmk__colocation_affects)."""
    return (c.dependent_role is None or c.dependent_role == (c.dependent.next_role or Role.STARTED)) and \
        (c.primary_role is None or c.primary_role == (c.primary.next_role or Role.STARTED))


def _unassigned_needs(resources: list[Resource]) -> dict[str, int]:
    """What the resources not yet assigned take together (a group counts its unassigned members)."""
    total: dict[str, int] = {}
    counted: set[int] = set()
    for rsc in resources:
        for part in (rsc.primitives() if rsc.is_group else [rsc]):
            if part.place.assign_done or id(part) in counted:
                continue
            counted.add(id(part))
            for name, amount in part.utilization.items():
                total[name] = total.get(name, 0) + amount
    return total


def ban_insufficient_capacity(p: Placer, rsc: Resource) -> str | None:
    """Pacemaker's pcmk__ban_insufficient_capacity: where some node can take ``rsc`` with everything still
    to be placed with it, ban the nodes that cannot; otherwise ban only those that cannot take ``rsc``
    alone, and return the node with the most capacity left (to be preferred)."""
    together = _unassigned_needs(colocated_resources(p, rsc))
    usable = [n for n, score in rsc.place.allowed.items() if score >= 0 and p.available(n)]
    if any(p.capacity.fits(n, together) for n in usable):
        _ban(p, rsc, usable, together, "it and its colocated resources")
        return None
    most: str | None = None
    for node in usable:
        if most is None or p.capacity.more_free_first(node, most) < 0:
            most = node
    _ban(p, rsc, usable, dict(rsc.utilization), "it")
    return most


def _ban(p: Placer, rsc: Resource, nodes: list[str], wanted: dict[str, int], what: str) -> None:
    if not wanted:
        return
    for node in nodes:
        if not p.capacity.fits(node, wanted):
            text = ", ".join(f"{k}={v}" for k, v in sorted(wanted.items()))
            p.set_score(rsc, node, -INF, f"not enough capacity left for {what} ({text}, "
                                         f"placement-strategy={p.capacity.strategy})")
