"""The primitive's methods (Pacemaker's pcmk_sched_primitive.c): a resource an agent runs.

A primitive is assigned to the best node after its colocations are weighed
(mandatory ones first), creates its stops, start, role changes, monitors and
probes, and reads its own summary line. A member of a group or an instance of
a clone defers to its container's assignment first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler import colocation, fencing, instances, migration, probes, recurring, summary, utilization
from paceline.policy.scheduler.act import IMPLIES_THEN, INTERMEDIATE_STOP, Act
from paceline.policy.scheduler.activity import counted_active, current_node
from paceline.policy.scheduler.variants import bundle, variant_of
from paceline.shared.cluster.digests import definition_change
from paceline.shared.cluster.model import ClusterState, Colocation, Resource, Role
from paceline.shared.cluster.scores import INF

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder
    from paceline.policy.scheduler.placement import Placer


class Primitive:
    """The method table of a primitive."""

    # ---------------------------------------------------------------- assignment

    def assign(self, p: Placer, rsc: Resource, prefer: str | None = None, stop_if_fail: bool = True) -> str | None:
        parent = rsc.parent
        if parent is not None and not parent.place.assigning and not parent.place.assign_done:
            p.assign(parent)
            return rsc.place.assigned
        if rsc.in_bundle is not None and bundle.assign_bundle_first(p, rsc):
            return rsc.place.assigned
        if rsc.clone_of is not None and instances.assign_clone_first(p, rsc):
            return rsc.place.assigned
        if rsc.place.assign_done:
            return rsc.place.assigned
        if rsc.place.assigning:
            return None
        rsc.place.assigning = True
        _weigh_colocations(p, rsc)
        state = p.state
        if rsc.next_role == Role.STOPPED:
            p.add_location(rsc, None, -INF, f"must stop ({rsc.next_role_reason or 'target-role=Stopped'})")
        if not rsc.orphan:
            p.show("pcmk__primitive_assign", rsc)
        if state.fencing_enabled and not state.have_fencing:
            rsc.managed = False
        if not rsc.managed:
            chosen = current_node(state, rsc)
            if rsc.next_role is None:
                rsc.next_role = rsc.status.role if chosen else Role.STOPPED
        elif state.stop_all:
            chosen = None
        else:
            most_free = utilization.ban_insufficient_capacity(p, rsc) if p.capacity.active else None
            chosen = p.best_node(rsc, prefer if prefer is not None else most_free)
        p.commit(rsc, chosen, stop_if_fail)
        rsc.place.assigning = False
        return chosen

    def apply_location(self, p: Placer, rsc: Resource, node: str, score: int, why: str) -> None:
        p.add_location(rsc, node, score, why)

    def before_assign(self, p: Placer, rsc: Resource) -> None:
        return None

    def assigned_nodes(self, rsc: Resource) -> list[str]:
        return [rsc.place.assigned] if rsc.place.assigned else []

    # ---------------------------------------------------------------- colocation

    def apply_coloc_score(self, p: Placer, dependent: Resource, primary: Resource, c: Colocation) -> None:
        colocation.apply_to_scores(p, dependent, primary, c)

    def add_colocated_scores(self, p: Placer, source: Resource, table: dict[str, int], c: Colocation,
                             factor: float, positive: bool = False, active: bool = True) -> dict[str, int] | None:
        return colocation.add_primitive_scores(p, source, table, c, factor, positive, active)

    # A primitive contains nothing: the container hooks are never asked of it.
    def contribute_colocations(self, p: Placer, container: Resource, member: Resource, out: list[Colocation],
                               this_with: bool) -> None:
        return None

    def member_role_actions(self, b: ActionBuilder, container: Resource, member: Resource, stops: list[Act],
                            start: Act | None, next_role: Role) -> Act | None:
        return None

    # ---------------------------------------------------------------- actions

    def create_actions(self, b: ActionBuilder, rsc: Resource) -> None:
        create_primitive_actions(b, rsc)

    def internal_constraints(self, b: ActionBuilder, rsc: Resource) -> None:
        return None

    def first_actions(self, b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
        found = b.find(rsc, task)
        if found:
            return found
        if task == "stop" and not rsc.status.active_on:
            return []
        if task in ("start", "stop"):
            return [b.new(task, rsc, None, optional=True, runnable=False)]
        return []

    def then_actions(self, b: ActionBuilder, rsc: Resource, task: str) -> list[Act]:
        return b.find(rsc, task)

    def summary_lines(self, state: ClusterState, b: ActionBuilder, rsc: Resource) -> list[summary.Line]:
        return summary.primitive_lines(state, b, rsc)


def _weigh_colocations(p: Placer, rsc: Resource) -> None:
    """Mandatory colocations first (this-with, then with-this), then the optional ones (Pacemaker's order)."""
    this_with = colocation.this_with(p, rsc)
    with_this = colocation.with_this(p, rsc)
    for c in this_with:
        if c.mandatory:
            colocation.apply_this_with(p, c, rsc)
    for c in with_this:
        if c.mandatory:
            colocation.add_dependent_scores(p, c, rsc)
    for c in this_with:
        if not c.mandatory:
            colocation.apply_this_with(p, c, rsc)
    for c in with_this:
        if not c.mandatory:
            colocation.add_dependent_scores(p, c, rsc)


def create_primitive_actions(b: ActionBuilder, rsc: Resource) -> None:
    """Stops where it runs and should not (or must restart), a start where it goes, role changes, monitors,
    probes, and unfencing of the node it starts on where needed."""
    state = b.state
    target = rsc.place.assigned
    next_role = rsc.next_role or (Role.STARTED if target else Role.STOPPED)
    active = list(rsc.status.active_on)
    current = current_node(state, rsc)
    moving = current is not None and target is not None and current != target
    may_migrate = moving and next_role >= Role.STARTED and current is not None \
        and migration.can_migrate(b, rsc, current)
    partial = migration.partial_state(rsc, current, may_migrate)
    if partial == "abandon":
        may_migrate = False
    multiply = partial is None and len(counted_active(state, rsc)) > 1
    restart = rsc.status.failed and rsc.status.stop_if_failed
    start_required_anyway = restart or partial == "abandon" or (multiply and rsc.multiple_active == "stop_start")
    change = definition_change(rsc, target) if target is not None and target in active else None
    # No agent reload of a start still in flight: stop it instead (the start follows the stop).
    stop_in_place = change == "reload" and target is not None and rsc.status.pending_task.get(target) == "start"
    if stop_in_place:
        change = None
    changed = change == "restart"
    if changed:
        start_required_anyway = True
    if change is not None and target is not None:
        fencing.unfence_for_device_change(b, rsc, target, reload=change == "reload")
    stops: list[Act] = []
    for node in active:
        if partial == "continue" and node == target:
            continue        # the migration to here goes on: nothing to stop on its target
        fenced = node in b.fences and b.fences[node].runnable
        required = target is None or node != target or start_required_anyway or next_role == Role.STOPPED \
            or node in rsc.restart_on or stop_in_place
        if multiply and rsc.multiple_active == "stop_unexpected" and node == target:
            required = False
        stop = b.new("stop", rsc, node, optional=not required, pseudo=fenced)
        if target is None:
            stop.set_reason("node availability")
        elif multiply and rsc.multiple_active == "stop_unexpected" and node != target:
            stop.set_reason("being multiply active")
        if not fenced and not b.node_ok(node):
            stop.runnable = False
        if not rsc.managed:
            stop.optional = True
            stop.runnable = False
        stops.append(stop)
    start: Act | None = None
    if target is not None and next_role >= Role.STARTED:
        required = target not in active or start_required_anyway or moving
        start = b.new("start", rsc, target, optional=not required)
        if changed and rsc.managed:
            start.set_reason("resource definition change")
        b.start_runnability(rsc, start)
        if change == "reload" and rsc.managed and start.optional:
            reload = b.new("reload-agent", rsc, target, optional=False)
            reload.runnable = start.runnable
            b.reloads[rsc.id] = reload
            b.order(start, reload, 0)
        for stop in stops:
            b.order(stop, start, IMPLIES_THEN | INTERMEDIATE_STOP)
    elif stops:
        # A resource that stops keeps an (unrunnable) start so orderings can still see it.
        start = b.new("start", rsc, None, optional=True, runnable=False)
        b.made_for_orderings.append(start)
        for stop in stops:
            b.order(stop, start, IMPLIES_THEN | INTERMEDIATE_STOP)
    promote: Act | None = None
    if rsc.clone_of is not None:
        clone = state.by_id[rsc.clone_of]
        promote = variant_of(clone).member_role_actions(b, clone, rsc, stops, start, next_role)
    if start is not None and start.node is not None:
        recurring.create_monitors(b, rsc, start.node, start, promote, next_role)
    probes.create_probes(b, rsc, start)
    if start is not None and start.node is not None and rsc.managed and fencing.needs_unfencing(b, rsc):
        # After the probes, as Pacemaker creates them first: a probe's need names the unfencing.
        b.order(fencing.unfence(b, start.node, f"required by {rsc.id} start"), start, IMPLIES_THEN)
    if may_migrate and start is not None and current is not None:
        current_stop = next((s for s in stops if s.node == current), None)
        if current_stop is not None:
            migration.create_migration(b, rsc, current, current_stop, start, partial == "continue")
    migration.stop_dangling(b, rsc, start)
