"""Live migration (Pacemaker's pcmk_sched_migration.c): ``allow-migrate=true`` moves without a restart.

A resource that may migrate and is moving gets, besides its stop and start,
``migrate_to`` on the source and ``migrate_from`` on the target; the start
becomes a pseudo-action (the target took over by ``migrate_from``). All four
carry the *migratable* flag, and the orderings decide whether the migration
survives: anything that needs the stop or the start as a real action - a
required stop of another resource ordered with it, a restart of a group member
before it - clears the flag (``unmigrateable X stop``), which makes the
migration actions unrunnable and the start real again, so the resource moves
by stop and start instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.policy.scheduler.act import (
    APPLY_FIRST_NON_MIGRATABLE,
    IMPLIES_FIRST_MIGRATABLE,
    INTERMEDIATE_STOP,
    PSEUDO_LEFT,
    Act,
)
from paceline.shared.cluster import remote as cluster_remote
from paceline.shared.cluster.model import Ordering, Resource
from paceline.shared.cluster.values import is_true

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


def migratable(rsc: Resource) -> bool:
    """``allow-migrate``; unset, a remote node's connection may migrate (its node floats with it without its
    resources restarting), as Pacemaker's resource unpacking defaults it."""
    value = rsc.meta.get("allow-migrate")
    if value is not None:
        return is_true(value, False)
    # (A guest's connection moves with its container, which restarts: never by migration unless asked.)
    return cluster_remote.is_connection(rsc) and rsc.launcher is None


def can_migrate(b: ActionBuilder, rsc: Resource, current: str) -> bool:
    """Pacemaker's pcmk__rsc_can_migrate: allowed, managed, not failed, no start pending, and neither the
    current nor the next node unclean."""
    if not migratable(rsc) or not rsc.managed or rsc.status.failed or rsc.status.migration_failed:
        return False
    if "start" in rsc.status.pending_task.values():
        return False
    nodes = b.state.nodes
    return not nodes[current].unclean and rsc.place.assigned is not None and not nodes[rsc.place.assigned].unclean


def partial_state(rsc: Resource, current: str | None, may_migrate: bool) -> str | None:
    """What becomes of a partial migration found in the history (pcmk__primitive_create_actions): "continue"
    when it may still migrate, is active on exactly its two nodes and goes to the same target; "abandon"
    otherwise (it is stopped everywhere and started afresh); None when there is none."""
    if rsc.status.partial_migration is None:
        return None
    source, target = rsc.status.partial_migration
    if may_migrate and len(rsc.status.active_on) == 2 and current == source and rsc.place.assigned == target:
        return "continue"
    return "abandon"


def create_migration(b: ActionBuilder, rsc: Resource, current: str, stop: Act, start: Act,
                     partial: bool = False) -> None:
    """Pacemaker's pcmk__create_migration_actions: migrate_to (unless a partial migration already did it)
    and migrate_from, with their orderings."""
    target = start.node
    assert target is not None
    meta = {"migrate_source": current, "migrate_target": target}
    migrate_from = b.new("migrate_from", rsc, target)
    migrate_from.meta = meta
    migrate_to = None if partial else b.new("migrate_to", rsc, current)
    for act in (start, stop, migrate_from):
        act.migrate_runnable = True
    start.pseudo = True
    first = migrate_from
    if migrate_to is not None:
        migrate_to.meta = meta
        migrate_to.migrate_runnable = True
        b.order(migrate_to, migrate_from, IMPLIES_FIRST_MIGRATABLE)
        first = migrate_to
    for probe in b.probes_before.get(start.id, ()):
        b.order(probe, first, 0)
    b.order(migrate_from, stop, IMPLIES_FIRST_MIGRATABLE)
    b.order(migrate_from, start, IMPLIES_FIRST_MIGRATABLE | PSEUDO_LEFT)


def stop_dangling(b: ActionBuilder, rsc: Resource, start: Act | None) -> None:
    """A completed migration's source that was never stopped gets its stop (pcmk__abort_dangling_migration);
    it does not make the start required (a dangling stop's orderings do not imply their then)."""
    for node in rsc.status.dangling_migrations:
        if node in rsc.status.active_on or not b.node_ok(node):
            continue
        stop = b.new("stop", rsc, node, optional=False)
        if start is not None:
            b.order(stop, start, INTERMEDIATE_STOP)


def order_equivalents(b: ActionBuilder, o: Ordering) -> None:
    """Pacemaker's pcmk__order_migration_equivalents: an ordering between two unrelated resources also
    orders their migration actions (optional orderings: they shape the graph, not the flags)."""
    first, then = o.first, o.then
    if first is then or _related(first, then):
        return
    first_migratable = migratable(first)
    then_migratable = migratable(then)
    if not first_migratable and not then_migratable:
        return
    tasks = (o.first_action, o.then_action)
    if tasks == ("start", "start"):
        if first_migratable and then_migratable:
            _order(b, first, "migrate_from", then, "migrate_to", 0)
        if then_migratable:
            _order(b, first, "start", then, "migrate_to", APPLY_FIRST_NON_MIGRATABLE if first_migratable else 0)
    elif then_migratable and tasks == ("stop", "stop"):
        flags = APPLY_FIRST_NON_MIGRATABLE if first_migratable else 0
        _order(b, first, "stop", then, "migrate_to", flags)
        _order(b, first, "stop", then, "migrate_from", flags, partial_only=True)
    elif then_migratable and tasks == ("promote", "start"):
        _order(b, first, "promote", then, "migrate_to", 0)
    elif then_migratable and tasks == ("demote", "stop"):
        _order(b, first, "demote", then, "migrate_to", 0)
        _order(b, first, "demote", then, "migrate_from", 0, partial_only=True)


def _order(b: ActionBuilder, first: Resource, first_task: str, then: Resource, then_task: str, flags: int,
           partial_only: bool = False) -> None:
    thens = b.find(then, then_task)
    if partial_only and b.find(then, "migrate_to"):   # only where migrate_to already happened
        return
    for first_act in b.find(first, first_task):
        for then_act in thens:
            b.order(first_act, then_act, flags)


def _related(a: Resource, b: Resource) -> bool:
    """Is one inside the other (Pacemaker's is_parent, either way)?"""
    return a in _ancestors(b) or b in _ancestors(a)


def _ancestors(rsc: Resource) -> list[Resource]:
    out = []
    while rsc.parent is not None:
        rsc = rsc.parent
        out.append(rsc)
    return out
