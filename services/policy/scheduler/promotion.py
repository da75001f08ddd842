"""Promotable clones: which placed instances run in the promoted role.

Pacemaker decides roles right after a clone's instances are placed
(``pcmk__set_instance_roles``). Each placed instance gets a *promotion
priority* on its node: the promotion score its agent published (the node
attribute ``master-<id>``, as ``crm_master`` / ``crm_attribute --promotion``
set it; -1 when there is none), plus ``role=Promoted`` location constraints,
plus its colocations by role with other resources. The priorities are then
added to the clone's own scores for the instances' nodes, together with the
preferences of what is colocated with the promoted role, and the instances
are taken by that total (printed as their "promotion score"): the highest
win, up to ``promoted-max`` in the cluster and ``promoted-node-max`` per
node; an instance whose total or own priority is negative is never
promoted. The rest run unpromoted.
"""

from __future__ import annotations

from functools import cmp_to_key
from typing import TYPE_CHECKING

from paceline.policy.scheduler import colocation, instances, remote
from paceline.policy.scheduler.tickets import promotion_ban
from paceline.policy.scheduler.variants import bundle_of
from paceline.shared.cluster.model import ClusterState, Colocation, Resource, Role
from paceline.shared.cluster.scores import INF, add_scores, parse_score
from paceline.shared.cluster.status_view import is_unique
from paceline.shared.cluster.values import is_true

if TYPE_CHECKING:
    from paceline.policy.scheduler.placement import Placer

NO_SCORE = -1       # priority of an instance whose agent published no promotion score on its node


def promotion_score(state: ClusterState, instance: Resource, node: str) -> int | None:
    """The score the instance's agent published on ``node`` (None: none published, or not one that counts); a
    group instance's is the sum of its members' (Pacemaker's promotion_score), None only when no member's counts.

    Agents publish it under the resource id they were given: the id the
    instance's history names it by (an anonymous instance's history may name
    another instance number), else its own id, then the clone's base id, as
    Pacemaker's ``promotion_score`` looks them up; and only where
    ``promotion_score_applies``.
    """
    if instance.is_group:
        scores = [s for m in instance.children if (s := promotion_score(state, m, node)) is not None]
        return sum(scores) if scores else None
    if not _score_applies(state, instance, node):
        return None
    attrs = state.nodes[remote.attribute_node(state, instance, node)].attrs
    names = dict.fromkeys((instance.history_name or instance.id, instance.history_id))
    for name in (f"master-{n}" for n in names):
        value = attrs.get(name)
        if value is not None:
            return parse_score(value, 0)
    return None


def _score_applies(state: ClusterState, instance: Resource, node: str) -> bool:
    """Pacemaker's ``promotion_score_applies``: where an instance's promotion score counts.

    An anonymous instance's counts on the node it is active on, and on a node
    where no instance is active but one was probed. Otherwise it counts on
    nodes where this instance's state is known, or everywhere while nothing is
    known of it at all (cluster start-up); and never where it may not run.
    """
    where = "elsewhere"
    clone = state.by_id.get(instance.clone_of or "")
    if clone is not None and not is_unique(clone):
        siblings = state.clones.get(instance.base_id, [])
        active = next((s for s in siblings if node in s.status.active_on), None)
        if active is instance or (active is None and any(node in s.status.known_on for s in siblings)):
            where = "here"
    if where != "here" and (node in instance.status.known_on or node in instance.status.active_on
                            or (not instance.status.active_on and not instance.status.known_on)):
        where = "here"
    return where == "here" and instance.place.allowed.get(node, -INF) >= 0


def add_promotion_scores(state: ClusterState, clone: Resource, placer: Placer) -> None:
    """Promotion scores also draw the instances when they are placed (``pcmk__add_promotion_scores``): on every
    available node where the score applies, a positive score is added to the instance's own. Negative scores do
    not push instances away: they only keep them from being promoted.
    """
    for instance in clone.children:
        for node in list(instance.place.allowed):
            if not placer.available(node):
                continue
            score = promotion_score(state, instance, node)
            if score is not None and score > 0:
                placer.add_location(instance, node, score, f"promotion score master-{instance.history_id}")


def choose_roles(state: ClusterState, clone: Resource, placer: Placer) -> None:
    """Promote the best placed instances; every other placed instance runs unpromoted
    (``pcmk__set_instance_roles``).

    Each placed instance gets a promotion priority on its node (``set_instance_priority``), the
    priorities are weighed together with the clone's own table and its promoted-role colocations into
    each instance's sort index (``sort_promotable_instances``), and the instances are taken in
    descending sort index (then higher current role, then the order instances are assigned in),
    promoted while the clone's ``promoted-max`` and the node's ``promoted-node-max`` allow and
    ``node_to_be_promoted_on`` finds nothing against it.
    """
    own = {id(i): _instance_priority(state, clone, i, placer) for i in clone.children}
    sort_index = _sort_indexes(state, clone, placer, own)
    compare = instances.instance_comparator(placer, clone, own)

    def by_promotion(a: Resource, b: Resource) -> int:
        if sort_index[id(a)] != sort_index[id(b)]:
            return -1 if sort_index[id(a)] > sort_index[id(b)] else 1
        role_a, role_b = _compared_role(a), _compared_role(b)
        if role_a != role_b:
            return -1 if role_a > role_b else 1
        return compare(a, b)

    promoted = 0
    per_node: dict[str, int] = {}
    for instance in sorted(clone.children, key=cmp_to_key(by_promotion)):
        placer.promotion_score(instance, sort_index[id(instance)])
        node = None
        if sort_index[id(instance)] >= 0 and (promoted < clone.promoted_max or not clone.managed):
            node = _node_to_be_promoted_on(state, clone, instance, own[id(instance)], per_node, placer)
        if node is None or not _may_promote(state, instance):
            _set_role(instance, Role.UNPROMOTED)
            continue
        _set_role(instance, Role.PROMOTED)
        promoted += 1
        per_node[node] = per_node.get(node, 0) + 1


def _instance_priority(state: ClusterState, clone: Resource, instance: Resource, placer: Placer) -> int:
    """``set_instance_priority``: the instance's promotion score on its node (-1 when its agent published
    none), -INFINITY when it may not be promoted at all, plus promoted-role locations and the role
    colocations of the instance with other resources (``pcmk__apply_coloc_to_priority``,
    ``pcmk__update_promotable_dependent_priority``). An unplaced instance: -INFINITY."""
    node = instance.place.assigned
    if node is None:
        return -INF
    role = instance.next_role
    if role is None or role == Role.STARTED:
        score = promotion_score(state, instance, node)
        total = NO_SCORE if score is None else score
    elif role == Role.PROMOTED:
        total = instances.sort_priority(placer, clone, instance)
    else:
        total = -INF
    for loc in state.locations:     # a bundle's promoted-role locations are its bundled clone's
        if loc.role == Role.PROMOTED and (loc.rsc is instance or (loc.rsc.is_bundle and loc.rsc.id == clone.in_bundle)):
            for where, value in loc.node_scores:
                if where == node:
                    total = add_scores(total, value)
    for c in [*colocation.this_with(placer, instance), *_bundle_colocations(state, clone, this_with=True)]:
        total = _colocated_priority(placer, instance, c, total)
    return total


def _bundle_colocations(state: ClusterState, clone: Resource, this_with: bool) -> list[Colocation]:
    """A bundle's colocations also weigh on its promotable bundled clone's roles (``pcmk__with_bundle_colocations``:
    the bundled resource gets those involving the promoted role; its containers get the rest)."""
    bundle = bundle_of(state, clone)
    if bundle is None or not clone.promotable:
        return []
    return list(bundle.this_with if this_with else bundle.with_this)


def _colocated_priority(placer: Placer, instance: Resource, c: Colocation, total: int) -> int:
    """How one colocation of a placed instance with another resource changes its promotion priority
    (the primary's ``apply_coloc_score`` once the dependent is placed)."""
    primary = c.primary
    if c.dependent.is_bundle and not primary.place.assign_done:
        placer.assign(primary)      # a bundle's primaries are placed before its replicas are
    if primary.is_bundle and primary.bundle is not None and primary.bundle.child is not None \
            and c.primary_role is not None:
        primary = primary.bundle.child      # a role of a bundle is its bundled clone's (pcmk__bundle_apply_coloc_score)
    if primary.is_clone:
        if not primary.place.assign_done:
            return total
        if primary.promotable and c.primary_role is not None and c.dependent_role == Role.PROMOTED:
            # pcmk__update_promotable_dependent_priority: an instance in that role on a node alike by the
            # colocation's attribute (a bundled instance's guest node counts as its host)
            here = instance.place.assigned
            key = placer.attr_key(here, c.node_attribute) if here is not None else None
            if key is not None and any(placer.attr_key(i.place.assigned, c.node_attribute) == key
                                       and i.next_role == c.primary_role
                                       for i in primary.children if i.place.assigned is not None):
                return add_scores(total, c.score)
            return -INF if c.score >= INF else total    # mandatory, but no such instance there
        if is_true(c.dependent.meta.get("interleave"), False) \
                and instances.node_max(c.dependent) == instances.node_max(primary):
            partner = next((i for i in primary.children if i.place.assigned == instance.place.assigned
                            and not instances.blocked(i)), None)
            return total if partner is None else _to_priority(placer, instance, partner, c, total)
        if c.score >= INF:
            return total
        for child in primary.children:
            total = _to_priority(placer, instance, child, c, total)
        return total
    if primary.is_group:
        if not primary.children or not primary.place.assign_done:
            return total
        primary = primary.children[-1] if c.score >= INF else primary.children[0]
    return _to_priority(placer, instance, primary, c, total)


def _to_priority(placer: Placer, instance: Resource, primary: Resource, c: Colocation, total: int) -> int:
    """``pcmk__apply_coloc_to_priority`` for a colocation by the instance's role (``pcmk__colocation_affects``
    says role only when the dependent's role is named): a primary placed in another role than the one named
    does not count; with the primary on a node alike by the colocation's attribute, add the score (subtract
    it for the unpromoted role); elsewhere - or nowhere - a mandatory one for the promoted role forbids
    promotion."""
    if c.dependent_role not in (Role.UNPROMOTED, Role.PROMOTED) or not primary.place.assign_done:
        return total
    pnode, node = primary.place.assigned, instance.place.assigned
    if node is None:
        return total
    if pnode is not None and c.primary_role is not None and _next_role(primary) != c.primary_role:
        return total
    same = pnode is not None and placer.attr_key(node, c.node_attribute) == placer.attr_key(pnode, c.node_attribute)
    if not same:
        return add_scores(-c.score, total) if c.score >= INF and c.dependent_role == Role.PROMOTED else total
    return add_scores(-c.score if c.dependent_role == Role.UNPROMOTED else c.score, total)


def _next_role(rsc: Resource) -> Role:
    """The role a placed resource is to have (a placed one with none set: started)."""
    if rsc.next_role is not None:
        return rsc.next_role
    return Role.STARTED if rsc.place.assigned is not None else Role.STOPPED


def _sort_indexes(state: ClusterState, clone: Resource, placer: Placer, own: dict[int, int]) -> dict[int, int]:
    """``sort_promotable_instances``: each instance's priority added to the clone's own score for its node,
    the clone's promoted-role colocations folded in (the primary's preferences for ``clone:Promoted with
    X``, the dependent's for ``X with clone:Promoted``), a missing ticket banning every node; each
    instance's sort index is then its node's total (its own priority if negative, INFINITY for an
    unmanaged instance staying promoted)."""
    start = {id(i): (INF if i.next_role == Role.PROMOTED else own[id(i)]) for i in clone.children}
    table = dict(clone.place.allowed)
    for instance in clone.children:
        node = instance.place.assigned
        if start[id(instance)] >= 0 and node is not None and node in table:
            table[node] = add_scores(start[id(instance)], table[node])
    for c in [*clone.with_this, *_bundle_colocations(state, clone, this_with=False)]:   # this-with: in priorities
        if c.primary_role == Role.PROMOTED and colocation.has_influence(c):
            table = colocation.add_colocated(placer, c.dependent, table, c, c.score / INF, positive=True) or table
    if promotion_ban(state, clone) <= -INF:
        table = dict.fromkeys(table, -INF)
    # Pacemaker works on the clone's own table: a bundle assigned early prints it again at its turn.
    placer.replace_table(clone, table, "instances' promotion priorities (sort_promotable_instances)")
    out = {}
    for instance in clone.children:
        node = instance.place.assigned
        if not instance.managed and instance.next_role == Role.PROMOTED:
            out[id(instance)] = INF
        elif node is None or start[id(instance)] < 0:
            out[id(instance)] = start[id(instance)]
        else:
            out[id(instance)] = table.get(node, start[id(instance)])
    return out


def _compared_role(instance: Resource) -> Role:
    """The current role promotion compares: started counts as unpromoted (``set_current_role_unpromoted``)."""
    role = current_role(instance)
    return Role.UNPROMOTED if role == Role.STARTED else role


def _node_to_be_promoted_on(state: ClusterState, clone: Resource, instance: Resource, own: int,
                            per_node: dict[str, int], placer: Placer) -> str | None:
    """``node_to_be_promoted_on``: the instance's node, unless something there keeps it from being promoted
    (a group instance: any member that could not be)."""
    for member in instance.children:
        if _node_to_be_promoted_on(state, clone, member, member.priority, per_node, placer) is None:
            return None
    node = instance.place.assigned
    if node is None:
        return None
    if not instance.managed:
        if current_role(instance) != Role.PROMOTED:
            return None
    elif own < 0 or not placer.available(node):
        return None
    if node not in clone.place.allowed:
        return None
    if per_node.get(node, 0) >= clone.promoted_node_max and instance.managed:
        return None
    return node


def current_role(instance: Resource) -> Role:
    """An instance's role now: a group instance's is its members' highest."""
    if instance.is_group:
        return max((m.status.role for m in instance.children), default=Role.STOPPED)
    return instance.status.role


def _set_role(instance: Resource, role: Role) -> None:
    """The instance's next role, and its members' (Pacemaker's set_instance_role): a member that will not
    run keeps its stop."""
    instance.next_role = role
    for member in instance.children:
        if member.place.assigned is not None and (member.next_role is None or member.next_role >= Role.STARTED):
            member.next_role = role


def _may_promote(state: ClusterState, instance: Resource) -> bool:
    """Without quorum, ``no-quorum-policy`` demote and freeze keep instances from rising to promoted."""
    if state.quorate or instance.requires == "nothing":
        return True
    return state.no_quorum_policy not in ("demote", "freeze")
