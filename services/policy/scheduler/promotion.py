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

from paceline.policy.scheduler.tickets import promotion_ban
from paceline.shared.cluster.model import ClusterState, Colocation, Resource, Role
from paceline.shared.cluster.scores import INF, add_scores, parse_score, scale

if TYPE_CHECKING:
    from paceline.policy.scheduler.placement import Placer

NO_SCORE = -1       # priority of an instance whose agent published no promotion score on its node


def promotion_score(state: ClusterState, instance: Resource, node: str) -> int | None:
    """The score the instance's agent published on ``node`` (None: none published).

    Agents publish it under the resource id they were given: the clone's base
    id for anonymous clones, so that name is looked up first.
    """
    attrs = state.nodes[node].attrs
    for name in (f"master-{instance.clone_name or instance.id}", f"master-{instance.history_id}"):
        value = attrs.get(name)
        if value is not None:
            return parse_score(value, 0)
    return None


def add_promotion_scores(state: ClusterState, clone: Resource, placer: Placer) -> None:
    """Promotion scores also draw the instances when they are placed.

    An instance already running counts only the score of the node it runs
    on (it should not be pulled away from it); an instance running nowhere
    weighs every node's. Negative scores do not push instances away: they only
    keep them from being promoted.
    """
    for instance in clone.children:
        for node in instance.active_on or list(instance.allowed):
            score = promotion_score(state, instance, node)
            if score is not None and score > 0 and node in instance.allowed:
                placer.add_location(instance, node, score, f"promotion score master-{instance.history_id}")


def priority(state: ClusterState, clone: Resource, instance: Resource, placer: Placer) -> int:
    """The instance's promotion priority on the node it was placed on."""
    node = instance.assigned
    assert node is not None
    score = promotion_score(state, instance, node)
    total = add_scores(NO_SCORE if score is None else score, promotion_ban(state, clone))
    for loc in state.locations:
        if loc.rsc is instance and loc.role == Role.PROMOTED:
            for where, value in loc.node_scores:
                if where == node:
                    total = add_scores(total, value)
    for c in clone.this_with:
        if c.dependent_role == Role.PROMOTED:
            total = add_scores(total, _promoted_with(c, node, placer))
    for c in clone.with_this:
        if c.primary_role == Role.PROMOTED and placer.has_influence(c):
            total = add_scores(total, _follower_preference(c, node, placer))
    return total


def _promoted_with(c: Colocation, node: str, placer: Placer) -> int:
    """``colocation ... clone:Promoted with X``: promote where X is (mandatory: only there)."""
    primary = c.primary
    if not primary.assign_done:
        placer.assign(primary)
    where = [i.assigned for i in primary.children if i.assigned] if primary.is_clone else \
        [primary.assigned] if primary.assigned else []
    if not where:
        return -c.score if c.score > 0 else 0
    key = placer.attr_key(node, c.node_attribute)      # compared as every colocation compares them
    if any(placer.attr_key(n, c.node_attribute) == key for n in where):
        return c.score
    return -INF if c.score >= INF else 0


def _follower_preference(c: Colocation, node: str, placer: Placer) -> int:
    """``colocation X with clone:Promoted``: X's own preference for the node, weighed by the score."""
    dependent = c.dependent
    if dependent.assign_done or not dependent.primitives():
        return 0
    first = dependent.primitives()[0]
    preference = first.allowed.get(node, 0)
    if preference <= -INF:
        return -INF if c.score >= INF else 0
    return scale(preference, c.score / INF)


def choose_roles(state: ClusterState, clone: Resource, placer: Placer) -> None:
    """Promote the best placed instances; every other placed instance runs unpromoted."""
    ranked: list[tuple[int, int, int, Resource]] = []
    for index, instance in enumerate(clone.children):
        if instance.assigned is None:
            continue
        if instance.next_role is not None and instance.next_role < Role.PROMOTED:
            if instance.next_role >= Role.STARTED:      # a failure capped it: it may run, but not promoted
                instance.next_role = Role.UNPROMOTED
            continue
        value = priority(state, clone, instance, placer)
        ranked.append((-value, 0 if instance.role == Role.PROMOTED else 1, index, instance))
    ranked.sort(key=lambda t: t[:3])
    promoted = 0
    per_node: dict[str, int] = {}
    for neg_value, _current, _index, instance in ranked:
        node = instance.assigned
        assert node is not None
        if -neg_value >= 0 and promoted < clone.promoted_max and per_node.get(node, 0) < clone.promoted_node_max \
                and _may_promote(state, instance):
            instance.next_role = Role.PROMOTED
            promoted += 1
            per_node[node] = per_node.get(node, 0) + 1
        else:
            instance.next_role = Role.UNPROMOTED


def _may_promote(state: ClusterState, instance: Resource) -> bool:
    """Without quorum, ``no-quorum-policy`` demote and freeze keep instances from rising to promoted."""
    if state.quorate or instance.requires == "nothing":
        return True
    return state.no_quorum_policy not in ("demote", "freeze")
