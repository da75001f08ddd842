"""Clone instances onto nodes, the way Pacemaker's ``pcmk__clone_assign`` and ``pcmk__assign_instances`` do.

A clone has an allowed-node table of its own (locations on the clone, node
health, anonymous instances' failure bans, its dependents' preferences), which
``crm_simulate -s`` prints as ``pcmk__clone_assign`` together with every
instance's table. The instances are then sorted (``pcmk__cmp_instance``) and
assigned in two passes (``pcmk__assign_instances``, pcmk_sched_instances.c):

1. each running, healthy instance is tried on its current node first
   (``assign_instance_early``). The attempt is a real assignment; if it picks
   another node, the instance's tables are restored, one instance is reserved
   for the node it picked, and it is tried again, so that shuffling is kept
   to a minimum while nodes still get their fair share;
2. every instance still unassigned is assigned normally, until ``clone-max``
   instances are placed; the rest are banned (``collective_limit_reached``).

The clone's table counts how many instances each node has been given
(``clone-node-max`` per node); a node the clone may not run on, one that is
full or unavailable, is banned from the instance before each attempt
(``ban_unavailable_allowed_nodes``). Every attempt prints the instance's
``pcmk__primitive_assign`` table, so an instance whose early attempt was
reverted is printed twice, as Pacemaker prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cmp_to_key
from typing import TYPE_CHECKING

from paceline.policy.scheduler import promotion
from paceline.policy.scheduler.activity import walk
from paceline.policy.scheduler.variants import bundle_of
from paceline.shared.cluster.model import ClusterState, Colocation, Resource, Role
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.status_view import is_unique
from paceline.shared.cluster.values import is_true, leading_int

if TYPE_CHECKING:
    from paceline.policy.scheduler.placement import Placer


def unique(clone: Resource) -> bool:
    """``globally-unique``; unset, a clone that may run more than one instance per node (``clone-node-max``
    > 1) is one, as Pacemaker's resource unpacking decides since 2.1.6 (crm_mon 2.1.5, which the status pages
    follow with ``status_view.is_unique``, read it as false)."""
    if "globally-unique" in clone.meta:
        return is_unique(clone)
    return (leading_int(clone.meta.get("clone-node-max"), 1) or 0) > 1


def node_max(clone: Resource) -> int:
    """``clone-node-max``: how many instances one node may run; an anonymous clone's instances cannot be told
    apart on one node, so it runs one at most there whatever it says (``clone_unpack``)."""
    if not unique(clone):
        return min(1, leading_int(clone.meta.get("clone-node-max"), 1, 0, 1) or 0)
    return leading_int(clone.meta.get("clone-node-max"), 1, 0, 2**31 - 1) or 0


def clone_max(clone: Resource) -> int:
    """``clone-max``: the configured instances (orphans, numbered after them, are not among them)."""
    return sum(1 for instance in clone.children if not instance.orphan)


def clone_of(state: ClusterState, rsc: Resource) -> Resource | None:
    """The clone ``rsc`` is an instance of, or a member of an instance of (None: not in a clone)."""
    return state.by_id.get(rsc.clone_of) if rsc.clone_of is not None else None


def is_unique_instance(state: ClusterState, rsc: Resource) -> bool:
    """A globally-unique clone's own instance (not a member of a group instance): ``assign_best_node`` does
    not draw it back to its current node, since the early pass already kept instances where they run."""
    clone = clone_of(state, rsc)
    return clone is not None and rsc.parent is None and unique(clone)


def every_clone(state: ClusterState) -> list[Resource]:
    """Every clone as a whole, those with instances in their assignment order, then any without one
    (``clone-max=0``: Pacemaker still prints its table)."""
    out = state.clone_sets()
    seen = {id(c) for c in out}
    return out + [r for r in state.by_id.values() if r.is_clone and id(r) not in seen]


def ban_target(state: ClusterState, rsc: Resource) -> Resource:
    """What a failure ban (migration-threshold) falls on: an anonymous clone's instance takes its whole clone
    with it, as ``pcmk__threshold_reached`` bans the uber-parent, since the instances are interchangeable."""
    clone = clone_of(state, rsc)
    return clone if clone is not None and not unique(clone) else rsc


def locate_tree(placer: Placer, rsc: Resource, node: str | None, score: int, why: str) -> None:
    """Pacemaker's ``resource_location`` on a collective: the score goes to every descendant's table too."""
    for part in walk(rsc):
        placer.add_location(part, node, score, why)


def is_clone_location(state: ClusterState, rsc: Resource) -> bool:
    """A location unpacked for ``rsc`` came from its clone and also counts for the clone's own table.

    Unpack gives each instance a copy of a location naming a clone; the first instance's copy stands for
    the clone (``clone_rsc_location`` applies it to the clone and to each instance).
    """
    if rsc.clone_of is None or rsc.parent is not None:
        return False
    instances = state.clones.get(rsc.clone_of) or []
    return bool(instances) and instances[0] is rsc


# ---------------------------------------------------------------- the clone


def assign_clone(placer: Placer, clone: Resource) -> None:
    """``pcmk__clone_assign``: a promotable clone's promotion scores (on the nodes available now, remote ones
    included once their connections are placed), its primaries first, its dependents' preferences, then the
    instances."""
    if clone.place.assign_done or clone.place.assigning:
        return
    bundle = bundle_of(placer.state, clone)
    if bundle is not None and not bundle.place.assign_done and not bundle.place.assigning:
        placer.assign(bundle)       # a bundle's clone goes with its bundle, after the containers
        return
    clone.place.assigning = True
    if clone.promotable:
        promotion.add_promotion_scores(placer.state, clone, placer)
    for c in list(clone.this_with):
        placer.assign(c.primary)
    for c in list(clone.with_this):
        placer.add_dependent_scores(c, clone)
    for part in walk(clone):
        if not part.orphan:
            placer.show("pcmk__clone_assign", part)
    order = instance_order(placer, clone)
    assign_instances(placer, clone, order, clone_max(clone), node_max(clone))
    if clone.promotable:
        promotion.choose_roles(placer.state, clone, placer)
    clone.place.assigning = False
    clone.place.assign_done = True


def assign_clone_first(placer: Placer, rsc: Resource) -> bool:
    """An instance (or a member of one) is assigned with its whole clone, never alone, as
    ``pcmk__primitive_assign`` assigns the parent first. True when that just happened, ``rsc`` included."""
    clone = clone_of(placer.state, rsc)
    if clone is None or clone.place.assigning or clone.place.assign_done:
        return False
    assign_clone(placer, clone)
    return True


def merge_clone_with_this(placer: Placer, out: list[Colocation], instance: Resource) -> None:
    """What is colocated with a clone is weighed by each of its instances too (a group instance: by its last
    member), as ``pcmk__with_clone_colocations`` adds the clone's list to an instance's."""
    clone = clone_of(placer.state, instance) if instance.clone_of is not None and instance.parent is None else None
    if clone is not None:
        placer.merge(out, clone.with_this, by_primary=False)


# ---------------------------------------------------------------- interleaved colocations


def colocate_interleaved(placer: Placer, rsc: Resource, primary: Resource, c: Colocation) -> bool:
    """A clone colocated with another one with ``interleave=true`` (and as many instances per node): each of its
    instances goes with the primary's instance on one node, not with the clone as a whole, as
    ``pcmk__clone_apply_coloc_score`` interleaves (``can_interleave``, ``pcmk__find_compatible_instance``). False
    when the colocation does not interleave (a role-specific one with a promotable primary does not).

    The partner is the primary's instance on the node ``rsc`` is assigned to, else on its best allowed node
    that has one. Without a partner a mandatory colocation leaves ``rsc`` nowhere to run (its next role is
    Stopped, as ``pcmk__assign_resource`` to no node with stop_if_fail makes it, even in an early attempt).
    """
    dependent = c.dependent
    if not dependent.is_clone or not is_true(dependent.meta.get("interleave"), False) \
            or (primary.promotable and c.primary_role is not None) or node_max(dependent) != node_max(primary):
        return False
    partner = _compatible_instance(placer, rsc, primary)
    if partner is not None:
        placer.apply_colocation_to_scores(rsc, partner, c)
    elif c.score >= INF:
        rsc.next_role = Role.STOPPED
        rsc.next_role_reason = f"no instance of {primary.id} to interleave with"
    return True


def role_colocation(clone: Resource, c: Colocation) -> bool:
    """A colocation with a promotable clone's instances in one role (``pcmk__update_dependent_with_promotable``
    places the dependent)."""
    return clone.promotable and c.primary_role is not None


def promoted_node_scores(state: ClusterState, clone: Resource, c: Colocation) -> dict[str, int]:
    """A mandatory colocation with a promotable clone's instances in a role adds, on each node where one will
    be in that role, that instance's score there (``pcmk__update_dependent_with_promotable`` merges the nodes'
    scores into the dependent's; the last such instance's where two share a node). Not for promoted with
    promoted, whose dependent instances must still start unpromoted elsewhere."""
    if not role_colocation(clone, c) or c.score < INF or \
            (c.dependent_role == Role.PROMOTED and c.primary_role == Role.PROMOTED):
        return {}
    return {i.place.assigned: _assigned_score(state, i) for i in clone.children
            if i.place.assigned is not None and i.next_role == c.primary_role}


def _assigned_score(state: ClusterState, instance: Resource) -> int:
    """The score of the node an instance was assigned to, as its assignment recorded it: its table's, or for an
    unmanaged instance (kept where it runs, whatever its table says) the node's own."""
    node = instance.place.assigned
    assert node is not None
    if not instance.managed:
        return state.nodes[node].base_score
    return instance.place.allowed.get(node, 0)


def blocked(instance: Resource) -> bool:
    """``is_set_recursive(instance, blocked)``: the instance or anything in it is blocked (a failed stop
    that cannot be recovered); a mandatory colocation with the clone does not count its node."""
    return any(part.status.blocked for part in walk(instance))


def _compatible_instance(placer: Placer, rsc: Resource, clone: Resource) -> Resource | None:
    return compatible_instance(placer, rsc, clone.children)


def compatible_instance(placer: Placer, rsc: Resource, candidates: list[Resource]) -> Resource | None:
    """``pcmk__find_compatible_instance`` (a bundle's ``compatible_container``): the (unblocked) instance
    assigned where ``rsc`` is, or where its best allowed node is."""
    by_node: dict[str, Resource] = {}
    for instance in candidates:
        node = instance.place.assigned if instance.place.assign_done else None
        if node is not None and node not in by_node and not blocked(instance):
            by_node[node] = instance
    if rsc.place.assign_done:
        return by_node.get(rsc.place.assigned) if rsc.place.assigned is not None else None
    tie_break = placer.tie_break()
    for node in sorted(rsc.place.allowed, key=lambda n: (-rsc.place.allowed[n], tie_break(n))):
        if node in by_node:
            return by_node[node]
    return None


# ---------------------------------------------------------------- instance order


def active_nodes(state: ClusterState, instance: Resource) -> list[str]:
    """The nodes an instance counts as active on (a group instance: where any member is), first one first."""
    out: list[str] = []
    for prim in instance.primitives():
        for node in prim.status.active_on:
            if (prim.requires in ("fencing", "unfencing") or not state.nodes[node].unclean) and node not in out:
                out.append(node)
    return out


def did_fail(rsc: Resource) -> bool:
    """``did_fail``: the instance or anything in it failed (one blocked where it runs failed with on-fail=block:
    Pacemaker flags it failed too, as crm_mon's FAILED shows; one frozen by a lost ticket did not fail)."""
    return rsc.status.failed or (rsc.status.blocked and not rsc.status.frozen and bool(rsc.status.active_on)) \
        or any(did_fail(child) for child in rsc.children)


def instance_number(rsc: Resource) -> int:
    """The N of ``RSC:N`` (of ``BUNDLE-ENGINE-N`` for a bundle's container)."""
    try:
        return int(rsc.id.rsplit(":" if rsc.in_bundle is None or ":" in rsc.id else "-", 1)[1])
    except (IndexError, ValueError):
        return 0


def sort_priority(placer: Placer, clone: Resource, instance: Resource) -> int:
    """The priority instances are sorted by: a promotable clone's instance has its best promotion score on an
    available node, if higher than its own (``pcmk__add_promotion_scores`` raises it, before the sort)."""
    best = instance.priority
    if clone.promotable:
        for node in instance.place.allowed:
            score = promotion.promotion_score(placer.state, instance, node) if placer.available(node) else None
            if score is not None and score > best:
                best = score
    return best


def instance_order(placer: Placer, clone: Resource, members: list[Resource] | None = None) -> list[Resource]:
    """The instances in the order ``pcmk__cmp_instance`` assigns them (a stable sort, as g_list_sort is);
    ``members``: what stands for the instances (a bundle's containers), else the clone's children."""
    members = clone.children if members is None else members
    priority = {id(i): sort_priority(placer, clone, i) for i in members}
    return sorted(members, key=cmp_to_key(instance_comparator(placer, clone, priority, members)))


def instance_comparator(placer: Placer, clone: Resource, priority: dict[int, int],
                        members: list[Resource] | None = None) -> Callable[[Resource, Resource], int]:
    """``pcmk__cmp_instance`` over the clone's instances (or ``members``, what stands for them), each weighed
    by ``priority`` (by ``id``): the priority they are assigned by, or when roles are chosen, their promotion
    priority."""
    state = placer.state
    current = {id(i): active_nodes(state, i) for i in (clone.children if members is None else members)}
    colocated: dict[int, int] = {}

    def colocation_score(instance: Resource) -> int:
        key = id(instance)
        if key not in colocated:
            colocated[key] = placer.colocated_score(instance, current[key][0])
        return colocated[key]

    def compare(a: Resource, b: Resource) -> int:
        nodes_a, nodes_b = current[id(a)], current[id(b)]
        if nodes_a and nodes_b and len(nodes_a) != len(nodes_b):
            return -1 if len(nodes_a) < len(nodes_b) else 1     # less multiply active first
        node_a = nodes_a[0] if nodes_a else None
        node_b = nodes_b[0] if nodes_b else None
        allowed_a = node_a is None or a.place.allowed.get(node_a, -INF) >= 0
        allowed_b = node_b is None or b.place.allowed.get(node_b, -INF) >= 0
        if allowed_a != allowed_b:
            return -1 if allowed_a else 1       # not active on a node it may no longer run on
        node_a = node_a if allowed_a else None
        node_b = node_b if allowed_b else None
        if priority[id(a)] != priority[id(b)]:
            return -1 if priority[id(a)] > priority[id(b)] else 1
        if node_a is None or node_b is None:
            return 0 if node_a is node_b else (1 if node_a is None else -1)    # active first
        up_a, up_b = placer.available(node_a), placer.available(node_b)
        if up_a != up_b:
            return -1 if up_a else 1
        in_a, in_b = node_a in clone.place.allowed, node_b in clone.place.allowed
        if not in_a or not in_b:
            return 0 if in_a == in_b else (-1 if in_a else 1)
        failed_a, failed_b = did_fail(a), did_fail(b)
        if failed_a != failed_b:
            return 1 if failed_a else -1
        score_a, score_b = colocation_score(a), colocation_score(b)
        if score_a != score_b:
            return -1 if score_a > score_b else 1
        return instance_number(a) - instance_number(b)

    return compare


# ---------------------------------------------------------------- assignment


def assign_instances(placer: Placer, clone: Resource, instances: list[Resource], max_total: int,
                     max_per_node: int) -> None:
    """``pcmk__assign_instances``: current nodes first, then the rest, at most ``max_total`` in all."""
    counts = dict.fromkeys(clone.place.allowed, 0)
    up = sum(1 for node in clone.place.allowed if placer.available(node))
    optimal = max(1, max_total // up) if up else 1
    assigned = 0
    for instance in instances:
        if assigned >= max_total:
            break
        if instance.place.assign_done:
            continue
        current = _preferred_node(placer, clone, instance, optimal, counts)
        if current is not None and _assign_early(placer, clone, instance, current, max_per_node,
                                                 max_total - assigned, counts):
            assigned += 1
    for instance in instances:
        if instance.place.assign_done:
            continue
        if assigned >= max_total:
            locate_tree(placer, instance, None, -INF, "collective_limit_reached")
            placer.settle_unassigned(instance)
        elif _assign_instance(placer, clone, instance, None, max_per_node, counts) is not None:
            assigned += 1


def _preferred_node(placer: Placer, clone: Resource, instance: Resource, optimal: int,
                    counts: dict[str, int]) -> str | None:
    """``preferred_node``: the current node of a running, healthy instance, unless it already has its share."""
    nodes = active_nodes(placer.state, instance)
    if not nodes or instance.status.failed:
        return None
    node = nodes[0]
    if not placer.available(node) or placer.state.nodes[node].base_score < 0:
        return None
    if node in counts and counts[node] >= optimal:
        return None
    return node


def _assign_early(placer: Placer, clone: Resource, instance: Resource, current: str, max_per_node: int,
                  available: int, counts: dict[str, int]) -> bool:
    """``assign_instance_early``: try the current node; while another node wins, reserve an instance for
    that node, undo the attempt and try again (at most ``available`` times)."""
    score = instance.place.allowed.get(current)
    if score is None or score < 0 or not placer.available(current):
        return False
    backup = {id(part): dict(part.place.allowed) for part in walk(instance)}
    scratch = dict(counts)
    chosen: str | None = None
    reserved = 0
    while reserved < available:
        chosen = _assign_instance(placer, clone, instance, current, max_per_node, scratch)
        if chosen == current:
            break
        for part in walk(instance):
            part.place.allowed = backup[id(part)]
        backup = {id(part): dict(part.place.allowed) for part in walk(instance)}
        if chosen is None:
            unassign(placer, instance)
            break
        reserved += 1
        unassign(placer, instance)
        chosen = None
    if chosen is None:
        return False
    counts[chosen] = counts.get(chosen, 0) + 1
    return True


def _assign_instance(placer: Placer, clone: Resource, instance: Resource, prefer: str | None,
                     max_per_node: int, counts: dict[str, int]) -> str | None:
    """``assign_instance``: ban the nodes it cannot take, assign it (an early attempt can be undone: nothing is
    stopped when it fails), and count it on its node."""
    if instance.place.assigning:
        return None
    _ban_unavailable(placer, clone, instance, max_per_node, counts)
    chosen = placer.assign(instance, prefer=prefer, stop_if_fail=prefer is None)
    if chosen is not None and chosen in counts:
        counts[chosen] += 1
    return chosen


def _ban_unavailable(placer: Placer, clone: Resource, instance: Resource, max_per_node: int,
                     counts: dict[str, int]) -> None:
    """``ban_unavailable_allowed_nodes``: -INFINITY (on the instance and its members) wherever
    ``can_run_instance`` says no."""
    for node in list(instance.place.allowed):
        if _can_run(placer, clone, instance, node, max_per_node, counts):
            continue
        why = f"clone {clone.id}: no instance may run here"
        placer.set_score(instance, node, -INF, why)
        for child in instance.children:
            if node in child.place.allowed:
                placer.set_score(child, node, -INF, why)


def _can_run(placer: Placer, clone: Resource, instance: Resource, node: str, max_per_node: int,
             counts: dict[str, int]) -> bool:
    """``can_run_instance``: not an orphan, the node up, the clone allowed there and the node not full."""
    if instance.orphan or not placer.available(node):
        return False
    score = clone.place.allowed.get(node)
    return score is not None and score >= 0 and counts.get(node, 0) < max_per_node


def unassign(placer: Placer, rsc: Resource) -> None:
    """``pcmk__unassign_resource``: the resource (every member of a group) provisional again, its node's
    resource count and capacity given back."""
    rsc.place.assign_done = False
    if rsc.children:
        rsc.place.assigned = None
        for child in rsc.children:
            unassign(placer, child)
        return
    node, rsc.place.assigned = rsc.place.assigned, None
    if node is not None:
        placer.release(rsc, node)
