"""Promotable clones: which placed instances run in the promoted role.

Pacemaker decides roles right after a clone's instances are placed, from each
instance's *promotion priority* on its node: the promotion score its agent
published (the node attribute ``master-<id>``, as ``crm_master`` /
``crm_attribute --promotion`` set it), plus ``role=Promoted`` location
constraints, plus colocations that involve the promoted role. The highest
priorities win, up to ``promoted-max`` in the cluster and
``promoted-node-max`` per node; an instance whose priority is negative - one
whose agent published no score at all counts as -1 - is never promoted. The
rest run unpromoted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import colocation, remote
from paceline.policy.scheduler.tickets import promotion_ban
from paceline.policy.scheduler.variants import variant_of
from paceline.shared.cluster.model import ClusterState, Colocation, Resource, Role
from paceline.shared.cluster.scores import INF, add_scores, parse_score, scale
from paceline.shared.cluster.status_view import is_unique

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
        active = next((s for s in siblings if node in s.active_on), None)
        if active is instance or (active is None and any(node in s.known_on for s in siblings)):
            where = "here"
    if where != "here" and (node in instance.known_on or node in instance.active_on
                            or (not instance.active_on and not instance.known_on)):
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


def priority(state: ClusterState, clone: Resource, instance: Resource, placer: Placer) -> int:
    """The instance's promotion priority on the node it was placed on."""
    node = instance.place.assigned
    assert node is not None
    score = promotion_score(state, instance, node)
    total = add_scores(NO_SCORE if score is None else score, promotion_ban(state, clone))
    for loc in state.locations:     # a bundle's promoted-role locations are its bundled clone's
        if loc.role == Role.PROMOTED and (loc.rsc is instance or (loc.rsc.is_bundle and loc.rsc.id == clone.in_bundle)):
            for where, value in loc.node_scores:
                if where == node:
                    total = add_scores(total, value)
    for c in _role_colocations(state, clone, clone.this_with, this_with=True):
        if c.dependent_role == Role.PROMOTED:
            total = add_scores(total, _promoted_with(c, node, placer))
    for c in _role_colocations(state, clone, clone.with_this, this_with=False):
        if c.primary_role == Role.PROMOTED and colocation.has_influence(c):
            total = add_scores(total, _follower_preference(c, node, placer))
    return total


def _role_colocations(state: ClusterState, clone: Resource, own: list[Colocation], this_with: bool) -> list[Colocation]:
    """The colocations that weigh on a clone's roles: its own, and a bundle's clone also its bundle's
    (``pcmk__with_bundle_colocations``: the bundled resource gets those involving the promoted role)."""
    bundle = state.by_id.get(clone.in_bundle) if clone.in_bundle is not None else None
    if bundle is None or not clone.promotable:
        return own
    return [*own, *(bundle.this_with if this_with else bundle.with_this)]


def _promoted_with(c: Colocation, node: str, placer: Placer) -> int:
    """``colocation ... clone:Promoted with X``: promote where X is (mandatory: only there); with a bundle's
    promoted instance, where that instance is."""
    primary = c.primary
    if not primary.place.assign_done:
        placer.assign(primary)
    where = variant_of(primary).assigned_nodes(primary)
    if primary.is_bundle and c.primary_role == Role.PROMOTED and primary.bundle is not None:
        where = [r.child.place.assigned for r in primary.bundle.replicas
                 if r.child is not None and r.child.place.assigned and r.child.next_role == Role.PROMOTED]
    if not where:
        return -c.score if c.score > 0 else 0
    key = placer.attr_key(node, c.node_attribute)      # compared as every colocation compares them
    if any(placer.attr_key(n, c.node_attribute) == key for n in where):
        return c.score
    return -INF if c.score >= INF else 0


def _follower_preference(c: Colocation, node: str, placer: Placer) -> int:
    """``colocation X with clone:Promoted``: X's own preference for the node, weighed by the score."""
    dependent = c.dependent
    if dependent.place.assign_done or not dependent.primitives():
        return 0
    first = dependent.primitives()[0]
    preference = first.place.allowed.get(node, 0)
    if preference <= -INF:
        return -INF if c.score >= INF else 0
    return scale(preference, c.score / INF)


def choose_roles(state: ClusterState, clone: Resource, placer: Placer) -> None:
    """Promote the best placed instances; every other placed instance runs unpromoted."""
    ranked: list[tuple[int, int, int, Resource]] = []
    for index, instance in enumerate(clone.children):
        if instance.place.assigned is None:
            continue
        if instance.next_role is not None and instance.next_role < Role.PROMOTED:
            if instance.next_role >= Role.STARTED:      # a failure capped it: it may run, but not promoted
                instance.next_role = Role.UNPROMOTED
            continue
        value = priority(state, clone, instance, placer)
        placed = instance.place.assigned
        if value >= 0 and placed is not None:
            # The clone's table gathers its instances' priorities (add_sort_index_to_node_score); printed again
            # by a bundle whose turn comes after it was assigned early, as the primary of a colocation.
            clone.place.allowed[placed] = add_scores(clone.place.allowed.get(placed, 0), value)
        ranked.append((-value, 0 if current_role(instance) == Role.PROMOTED else 1, index, instance))
    ranked.sort(key=lambda t: t[:3])
    promoted = 0
    per_node: dict[str, int] = {}
    for neg_value, _current, _index, instance in ranked:
        node = instance.place.assigned
        assert node is not None
        if -neg_value >= 0 and promoted < clone.promoted_max and per_node.get(node, 0) < clone.promoted_node_max \
                and _may_promote(state, instance):
            _set_role(instance, Role.PROMOTED)
            promoted += 1
            per_node[node] = per_node.get(node, 0) + 1
        else:
            _set_role(instance, Role.UNPROMOTED)


def current_role(instance: Resource) -> Role:
    """An instance's role now: a group instance's is its members' highest."""
    if instance.is_group:
        return max((m.role for m in instance.children), default=Role.STOPPED)
    return instance.role


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
