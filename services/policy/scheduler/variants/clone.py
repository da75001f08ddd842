"""The clone's methods (Pacemaker's pcmk_sched_clone.c and pcmk_sched_instances.c): copies of one resource.

A clone is assigned by placing its instances (each a primitive or a group)
one per node: those that can stay where they run first, then the rest. Its
own start/running and stop/stopped pseudo-actions complete once any instance
has (unlike a group, which needs every member), and instances stop and start
as a set. A colocation with a clone is with any of its instances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import colocation, instances
from paceline.policy.scheduler.act import ANY_BLOCKS, BLOCKS, IMPLIES_FIRST, IMPLIES_THEN, MEMBER, Act
from paceline.policy.scheduler.variants import variant_of
from paceline.policy.scheduler.variants.collective import Collective
from paceline.shared.cluster.model import Colocation, Resource, Role
from paceline.shared.cluster.unpack import insert_colocation

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder
    from paceline.policy.scheduler.placement import Placer


class Clone(Collective):
    """The method table of a clone (anonymous or globally unique)."""

    #: (begin, done) pseudo-action pairs of each phase; a promotable clone adds promote and demote.
    phases: tuple[tuple[str, str], ...] = (("start", "running"), ("stop", "stopped"))

    # ---------------------------------------------------------------- assignment

    def assign(self, p: Placer, clone: Resource, prefer: str | None = None, stop_if_fail: bool = True) -> str | None:
        """Place every instance (:mod:`~paceline.policy.scheduler.instances`; a promotable clone then
        chooses roles); a clone itself goes nowhere: None."""
        instances.assign_clone(p, clone)
        return None

    def apply_location(self, p: Placer, clone: Resource, node: str, score: int, why: str) -> None:
        p.add_location(clone, node, score, why)

    def before_assign(self, p: Placer, clone: Resource) -> None:
        return None

    def assigned_nodes(self, clone: Resource) -> list[str]:
        return [i.place.assigned for i in clone.children if i.place.assigned]

    # ---------------------------------------------------------------- colocation

    def apply_coloc_score(self, p: Placer, dependent: Resource, primary: Resource, c: Colocation) -> None:
        if instances.colocate_interleaved(p, dependent, primary, c):
            return          # with the primary's instance on the same node only
        colocation.apply_with_instances(p, dependent, primary, c)

    def add_colocated_scores(self, p: Placer, source: Resource, table: dict[str, int], c: Colocation,
                             factor: float, positive: bool = False, active: bool = True) -> dict[str, int] | None:
        return colocation.add_primitive_scores(p, source, table, c, factor, positive, active)

    def contribute_colocations(self, p: Placer, clone: Resource, member: Resource, out: list[Colocation],
                               this_with: bool) -> None:
        """What the clone is colocated with places each of its instances (a group instance by its first
        member); what is colocated with the clone is weighed by each instance too (a group instance's by its
        last member, through the group; pcmk__with_clone_colocations)."""
        if not this_with:
            if member.parent is None:
                instances.merge_clone_with_this(p, out, member)
            return
        if member.parent is not None and member is not member.parent.children[0]:
            return
        for c in clone.this_with:
            insert_colocation(out, c, by_primary=True)

    # ---------------------------------------------------------------- actions

    def create_actions(self, b: ActionBuilder, clone: Resource) -> None:
        for instance in clone.children:
            variant_of(instance).create_actions(b, instance)

    def member_role_actions(self, b: ActionBuilder, clone: Resource, member: Resource, stops: list[Act],
                            start: Act | None, next_role: Role) -> Act | None:
        return None

    def internal_constraints(self, b: ActionBuilder, clone: Resource) -> None:
        """The clone's own pseudo-actions per phase, joined to every instance's; every stop before any
        start."""
        pseudo: dict[str, Act] = {}
        for begin, done in self.phases:
            pseudo[begin] = b.new(begin, clone, None, pseudo=True)
            pseudo[done] = b.new(done, clone, None, pseudo=True)
            growing = begin in ("start", "promote")
            if growing and not any(a.node is not None for p in clone.primitives() for a in b.find(p, begin)):
                pseudo[begin].runnable = pseudo[done].runnable = False
            b.order(pseudo[begin], pseudo[done], BLOCKS if growing else 0)
            for instance in clone.children:
                # A group instance joins through its own pseudo-actions, a primitive one through its actions.
                firsts, lasts = _instance_phase(b, instance, begin, done)
                for act in firsts:
                    b.order(pseudo[begin], act, IMPLIES_FIRST | MEMBER)
                for act in lasts:
                    b.order(act, pseudo[done], IMPLIES_THEN | (ANY_BLOCKS if growing else 0))
        b.order(pseudo["stopped"], pseudo["start"], 0)
        # Resources ordered after the clone may still migrate unless an instance restarts (Pacemaker's
        # pcmk__create_instance_actions: the stop pseudo-action is migratable without instance_restarting).
        pseudo["stop"].migrate_runnable = not any(_restarting(b, i) for i in clone.children)
        self.order_phases(b, pseudo)

    def order_phases(self, b: ActionBuilder, pseudo: dict[str, Act]) -> None:
        """Orderings between the phases beyond stop-before-start (a promotable clone's)."""
        return None



def _restarting(b: ActionBuilder, instance: Resource) -> bool:
    """Does the instance both start and stop in this transition, as created (check_instance_state)?"""
    starting = stopping = False
    for part in instance.primitives():
        for act in b.by_rsc.get(part.id, ()):
            if act.task == "start" and act.required and act.runnable:
                starting = True
            elif act.task == "stop" and act.required and (act.runnable or act.pseudo):
                stopping = True
    return starting and stopping


def _instance_phase(b: ActionBuilder, instance: Resource, begin: str, done: str) -> tuple[list[Act], list[Act]]:
    """The actions of an instance that a clone phase's begin implies and whose completion it waits for."""
    if instance.is_group:
        return b.find(instance, begin), b.find(instance, done)
    acts = [a for a in b.find(instance, begin) if a.node is not None]
    return acts, acts
