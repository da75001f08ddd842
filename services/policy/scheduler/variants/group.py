"""The group's methods (Pacemaker's pcmk_sched_group.c): members placed together, started in order.

A group is assigned by assigning its members in order, each colocated with
the one before (internal colocations, weaker for a non-critical member); a
location score for the group lands on its first member. Its start/running and
stop/stopped pseudo-actions bracket the members, which start in order and stop
in reverse; orderings that name the group attach to those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import colocation, instances
from paceline.policy.scheduler.act import BLOCKS, IMPLIES_FIRST, IMPLIES_THEN, MEMBER, Act
from paceline.policy.scheduler.variants import variant_of
from paceline.policy.scheduler.variants.collective import Collective
from paceline.shared.cluster.model import Colocation, Resource, Role
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.unpack import add_colocation
from paceline.shared.cluster.values import is_true

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder
    from paceline.policy.scheduler.placement import Placer

_PSEUDO_TASKS = ("start", "running", "stop", "stopped")
_ROLE_TASKS = ("promote", "promoted", "demote", "demoted")


class Group(Collective):
    """The method table of a group."""

    # ---------------------------------------------------------------- assignment

    def assign(self, p: Placer, group: Resource, prefer: str | None = None, stop_if_fail: bool = True) -> str | None:
        if group.place.assign_done:
            return group.place.assigned
        if group.clone_of is not None and instances.assign_clone_first(p, group):
            return group.place.assigned       # an instance is placed with its whole clone
        if group.place.assigning:
            return None
        group.place.assigning = True
        p.show("pcmk__group_assign", group)
        for member in group.children:
            p.show("pcmk__group_assign", member)
        first: str | None = None
        for member in group.children:
            node = variant_of(member).assign(p, member, prefer, stop_if_fail)
            if first is None:
                first = node
        group.next_role = group.children[0].next_role
        group.place.assigned = first
        group.place.assigning = False
        group.place.assign_done = True
        return first

    def apply_location(self, p: Placer, group: Resource, node: str, score: int, why: str) -> None:
        """The group keeps the score; its first member gets it, later members at least an entry for the node."""
        p.add_location(group, node, score, why)
        for i, member in enumerate(group.children):
            if i == 0:
                variant_of(member).apply_location(p, member, node, score, f"{why} (on group {group.id})")
            elif node not in member.place.allowed:
                p.set_score(member, node, 0, f"{why} (on group {group.id}, later member)")

    def before_assign(self, p: Placer, group: Resource) -> None:
        """Each member is colocated with the one before it (influence: only a critical member moves it),
        unless the group is not ``collocated`` (``member_internal_constraints`` makes the chain only for a
        collocated group)."""
        if not is_true(group.meta.get("collocated"), True):
            return
        for prev, member in zip(group.children, group.children[1:], strict=False):
            add_colocation(p.state, Colocation(id="#group-members", dependent=member, primary=prev,
                                               score=INF, influence=member.critical))

    def assigned_nodes(self, group: Resource) -> list[str]:
        return [group.place.assigned] if group.place.assigned else []

    # ---------------------------------------------------------------- colocation

    def apply_coloc_score(self, p: Placer, dependent: Resource, primary: Resource, c: Colocation) -> None:
        """With a group: where its last member went when mandatory (the whole group), else its first."""
        target = primary.children[-1] if c.score >= INF else primary.children[0]
        colocation.apply_to_scores(p, dependent, target, c)

    def add_colocated_scores(self, p: Placer, source: Resource, table: dict[str, int], c: Colocation,
                             factor: float, positive: bool = False, active: bool = True) -> dict[str, int] | None:
        """A group's preferences are its first member's (the rest follow it)."""
        return colocation.add_colocated(p, source.children[0], table, c, factor, positive, active)

    def contribute_colocations(self, p: Placer, group: Resource, member: Resource, out: list[Colocation],
                               this_with: bool) -> None:
        """The group's own colocations (and, when collocated, the other members') reach its first member
        (this-with: it decides where the group goes) or its last (with-this)."""
        if not group.children or member is not (group.children[0] if this_with else group.children[-1]):
            return
        colocation.merge_lists(out, group.this_with if this_with else group.with_this, by_primary=this_with)
        if not this_with:       # a cloned group instance's last member also weighs what is with the clone
            instances.merge_clone_with_this(p, out, group)
        colocation.add_member_colocations(out, group, member, this_with)

    # ---------------------------------------------------------------- actions

    def create_actions(self, b: ActionBuilder, group: Resource) -> None:
        for task in _PSEUDO_TASKS + (_ROLE_TASKS if _promotes(b, group) else ()):
            b.new(task, group, None, optional=True, pseudo=True)
        for member in group.children:
            variant_of(member).create_actions(b, member)

    def member_role_actions(self, b: ActionBuilder, group: Resource, member: Resource, stops: list[Act],
                            start: Act | None, next_role: Role) -> Act | None:
        return None

    def internal_constraints(self, b: ActionBuilder, group: Resource) -> None:
        """Members start in order after the group's start, stop in reverse, and complete its phases."""
        g = {t: b.find(group, t)[0] for t in _PSEUDO_TASKS}
        b.order(g["stop"], g["stopped"], BLOCKS)
        b.order(g["stopped"], g["start"], 0)
        b.order(g["start"], g["running"], BLOCKS)
        if any(not b.find(member, "start") for member in group.children):
            # A group is started only when every member can be: one that will not start keeps it from running.
            g["start"].runnable = False
        if _promotes(b, group):
            _role_constraints(b, group)
        prev: Resource | None = None
        for member in group.children:
            for start in b.find(member, "start"):
                b.order(g["start"], start, IMPLIES_FIRST)
                b.order(start, g["running"], IMPLIES_THEN | BLOCKS)
            for stop in b.find(member, "stop"):
                b.order(g["stop"], stop, IMPLIES_FIRST)
                b.order(stop, g["stopped"], IMPLIES_THEN)
            if prev is not None:
                _chain(b, prev, member)
            prev = member



def _promotes(b: ActionBuilder, group: Resource) -> bool:
    """Is the group an instance of a promotable clone (its members promote and demote)?"""
    return group.clone_of is not None and b.state.by_id[group.clone_of].promotable


def _role_constraints(b: ActionBuilder, group: Resource) -> None:
    """A promotable group instance's promote/demote pseudo-actions (pcmk__group_internal_constraints): demotes
    before stops, promotes after starts; members promote in order and demote in reverse."""
    g = {t: b.find(group, t)[0] for t in _PSEUDO_TASKS + _ROLE_TASKS}
    b.order(g["demote"], g["demoted"], 0)
    b.order(g["demoted"], g["stop"], 0)
    b.order(g["running"], g["promote"], 0)
    b.order(g["promote"], g["promoted"], BLOCKS)
    prev: Resource | None = None
    for member in group.children:
        for promote in b.find(member, "promote"):
            b.order(g["promote"], promote, IMPLIES_FIRST | MEMBER)
            b.order(promote, g["promoted"], IMPLIES_THEN | BLOCKS)
        for demote in b.find(member, "demote"):
            b.order(g["demote"], demote, IMPLIES_FIRST | MEMBER)
            b.order(demote, g["demoted"], IMPLIES_THEN)
        if prev is not None:
            for first in b.find(prev, "promote"):
                for then in b.find(member, "promote"):
                    b.order(first, then, IMPLIES_THEN | BLOCKS)
            for first in b.find(member, "demote"):
                for then in b.find(prev, "demote"):
                    b.order(first, then, IMPLIES_FIRST)
        prev = member


def _chain(b: ActionBuilder, prev: Resource, member: Resource) -> None:
    """One member starts after the one before it and stops before it."""
    for first in b.find(prev, "start"):
        for then in b.find(member, "start"):
            b.order(first, then, IMPLIES_THEN | BLOCKS)
    for first in b.find(member, "stop"):
        for then in b.find(prev, "stop"):
            b.order(first, then, IMPLIES_FIRST)
    if member.status.active_on and not prev.status.active_on:
        # A member added in the middle of a running group: the later members must stop before it starts (the
        # usual stop-restart chain says nothing here), and a later member that cannot stop (unmanaged) keeps
        # it from starting.
        for first in b.find(member, "stop"):
            for then in b.find(prev, "start"):
                b.order(first, then, IMPLIES_FIRST | BLOCKS)
