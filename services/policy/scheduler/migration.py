"""Live migration (Pacemaker's pcmk_sched_migration.c): ``allow-migrate=true`` moves without a restart.

A healthy resource moving between two live nodes is handed over -
``migrate_to`` on the source, ``migrate_from`` on the target, then the
source's stop - instead of being stopped and started again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.shared.cluster.model import Resource
from paceline.shared.cluster.values import is_true

if TYPE_CHECKING:
    from paceline.policy.scheduler.actions import ActionBuilder


def migrate(b: ActionBuilder, rsc: Resource) -> None:
    """Turn a required stop/start pair into a migration where nothing else is tied to the move.

    Decided once the flags are settled: a resource whose start or stop is
    ordered with another resource's required action (something else restarts
    or moves with it) moves by stop and start, as does one in a group, a clone
    or a launcher.
    """
    if not is_true(rsc.meta.get("allow-migrate"), False) or not rsc.managed or rsc.failed \
            or rsc.parent is not None or rsc.clone_of is not None or rsc.launcher is not None \
            or rsc.launched or len(rsc.active_on) != 1:
        return
    source, target = rsc.active_on[0], rsc.assigned
    if target is None or target == source or not b.node_ok(source):
        return
    stops, starts = b.find(rsc, "stop", source), b.find(rsc, "start", target)
    if len(stops) != 1 or len(starts) != 1:
        return
    stop, start = stops[0], starts[0]
    if not (stop.required and start.required and stop.runnable and start.runnable) or stop.pseudo:
        return
    for act in (stop, start):
        for other, _flags in (*act.before, *act.after):
            if other.rsc is not rsc and other.required and other.rsc is not None:
                return
    meta = {"migrate_source": source, "migrate_target": target}
    migrate_to = b.new("migrate_to", rsc, source, optional=False)
    migrate_from = b.new("migrate_from", rsc, target, optional=False)
    migrate_to.meta = migrate_from.meta = meta
    for probe in b.probes_before.get(start.id, ()):
        b.order(probe, migrate_to, 0)
    b.order(migrate_to, migrate_from, 0)
    b.order(migrate_from, stop, 0)
    b.order(migrate_from, start, 0)
    start.pseudo = True          # the target took over by migrate_from: nothing left to start
