"""Orderings between resources (Pacemaker's pcmk_sched_ordering.c): the user's, sets, launchers and
anti-colocations.

An ordering names resources; which of their actions it joins is each
resource's variant's ``first_actions``/``then_actions`` (a group or clone by
its pseudo-actions). ``interleave=true`` between two clones joins each
instance only with its partner on the same node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import migration
from paceline.policy.scheduler.act import (
    ANY_BLOCKS,
    ASYMMETRIC,
    BLOCKS,
    IMPLIES_THEN,
    INVERSE,
    INVERSE_FIRST,
    MEMBER,
    Act,
)
from paceline.policy.scheduler.variants import variant_of
from paceline.shared.cluster.model import OneOrMore, Ordering, Resource, Role
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.values import is_true

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


def first_actions(b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
    return variant_of(rsc).first_actions(b, rsc, task)


def then_actions(b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
    return variant_of(rsc).then_actions(b, rsc, task)


def launcher_orderings(b: ActionBuilder, rsc: Resource) -> None:
    """A launched resource starts after its launcher and stops before it."""
    launcher = rsc.launcher
    assert launcher is not None
    connect(b, launcher, "start", rsc, "start", IMPLIES_THEN | BLOCKS)
    connect(b, rsc, "stop", launcher, "stop", 0)


def user_ordering(b: ActionBuilder, o: Ordering) -> None:
    """An ``rsc_order``: its flags by kind and symmetry, and the inverse for a symmetrical one."""
    if o.kind == "Serialize":
        return
    if o.kind == "Optional":
        flags = 0
    elif not o.symmetrical:
        flags = ASYMMETRIC
    else:
        flags = IMPLIES_THEN | (BLOCKS if o.first_action in ("start", "promote") else 0)
    if o.forward:
        connect(b, o.first, o.first_action, o.then, o.then_action, flags)
        migration.order_equivalents(b, o)
    if o.symmetrical:
        inv_first = INVERSE.get(o.then_action)
        inv_then = INVERSE.get(o.first_action)
        if inv_first and inv_then:
            connect(b, o.then, inv_first, o.first, inv_then, INVERSE_FIRST if o.kind == "Mandatory" else 0)


def unassign_unpartnered(b: ActionBuilder) -> None:
    """Instances of a clone interleaved after another by a mandatory ordering that have no partner on their
    node are unassigned, and an unassigned instance is no partner either: repeated until nothing changes.

    Pacemaker unassigns them while it propagates flags (update_interleaved_actions ->
    unassign_if_mandatory, for a first action that is not a stop or demote), looking the partner up at
    each update, so the chain collapses whatever order the constraints come in; resources placed
    beside such an instance keep their place (they were assigned before).
    """
    chains = [o for o in b.state.orderings
              if o.forward and o.kind == "Mandatory" and o.symmetrical and o.first_action in ("start", "promote")
              and o.then_action not in ("stop", "demote") and o.first.is_clone and o.then.is_clone
              and is_true(o.then.meta.get("interleave"), False)]
    changed = bool(chains)
    while changed:
        changed = False
        for o in chains:
            partners = {i.place.assigned for i in o.first.children if i.place.assigned is not None}
            for instance in o.then.children:
                if instance.place.assigned is not None and instance.place.assigned not in partners:
                    _without_partner(instance, then_actions(b, instance, o.then_action))
                    changed = True


def one_or_more(b: ActionBuilder, join: OneOrMore) -> None:
    """A ``require-all="false"`` set: its pseudo-action runs once any first has, and the thens wait for it."""
    pseudo = b.new(join.id, None, None, pseudo=True)
    pseudo.needs = join.required
    firsts = [a for r in join.firsts for a in first_actions(b, r, join.first_action)]
    if len(firsts) < join.required:
        pseudo.runnable = False
    for first in firsts:     # its firsts never make it required (pe_order_one_or_more only prints as implies-then)
        b.order(first, pseudo, ANY_BLOCKS)
    flags = 0 if join.kind != "Mandatory" else IMPLIES_THEN | BLOCKS
    for rsc in join.thens:
        for then in then_actions(b, rsc, join.then_action):
            b.order(pseudo, then, flags)


def connect(b: ActionBuilder, first_rsc: Resource, first_task: str, then_rsc: Resource, then_task: str,
            flags: int) -> None:
    """Order every action the first resource's task names before every one the then resource's names."""
    if first_rsc.is_clone and then_rsc.is_clone and is_true(then_rsc.meta.get("interleave"), False):
        _connect_interleaved(b, first_rsc, first_task, then_rsc, then_task, flags)
        return
    firsts = first_actions(b, first_rsc, first_task)
    thens = then_actions(b, then_rsc, then_task)
    for first in firsts:
        for then in thens:
            # A collective's members stand in for the collective's own action, which alone decides (as in
            # Pacemaker, where only the collective's action is ordered) whether first may still migrate.
            b.order(first, then, flags if then.rsc is then_rsc else flags | MEMBER)


def _connect_interleaved(b: ActionBuilder, first: Resource, first_task: str, then: Resource, then_task: str,
                         flags: int) -> None:
    """``interleave=true`` on the then-clone: each of its instances waits only for the first-clone's
    instance on its own node, so one node's change restarts nothing elsewhere. Where the first-clone has
    no instance, a mandatory ordering keeps the then-instance from running there."""
    def node_of(instance: Resource, task: str) -> str | None:
        if task in ("stop", "demote"):
            return next((n for p in instance.primitives() for n in p.status.active_on), None)
        return instance.place.assigned

    firsts = {node: first_actions(b, i, first_task) for i in first.children
              if (node := node_of(i, first_task)) is not None}
    for instance in then.children:
        node = node_of(instance, then_task)
        if node is None:
            continue
        thens = then_actions(b, instance, then_task)
        partners = firsts.get(node)
        if partners is None:
            if flags & BLOCKS:
                _without_partner(instance, thens)
            continue
        for a in partners:
            for then_act in thens:
                b.order(a, then_act, flags)


def _without_partner(instance: Resource, thens: list[Act]) -> None:
    """An interleaved instance whose partner instance cannot run on its node cannot run there either.

    As Pacemaker's update_interleaved_actions does ("Inhibiting ... because
    there is no ... instance to interleave"): the instance is unassigned - one
    that runs nowhere yet gets no summary line, one already running there
    stops - and, being unassigned, is no partner for a clone interleaved after
    it either. Unassigning names no reason (``pcmk__assign_resource`` to no
    node clears the flags without one).
    """
    for act in thens:
        act.runnable = False
    for part in (instance, *instance.children):
        part.place.assigned = None
        part.next_role = Role.STOPPED


def anti_colocation_orderings(b: ActionBuilder) -> None:
    """-INFINITY colocations: stop one before starting the other on the same node."""
    for c in b.state.colocations:
        if c.score > -INF:
            continue
        for x, y in ((c.primary, c.dependent), (c.dependent, c.primary)):
            for stop in then_actions(b, x, "stop"):
                for start in then_actions(b, y, "start"):
                    if stop.node is not None and stop.node == start.node:
                        b.order(stop, start, 0)
