"""What a live migration left in the history: partial migrations, dangling sources, failed migrations.

A migration is ``migrate_to`` on the source, ``migrate_from`` on the target,
then a stop on the source; a transition can be cut off between any two. How
the scheduler reads each state follows Pacemaker's unpack.c
(unpack_migrate_to_success, unpack_migrate_to_failure,
unpack_migrate_from_failure and their helpers non_monitor_after,
newer_state_after_migrate, monitor_not_running_after, unknown_on_node and
pe__is_newer_op):

- both halves done, the source not yet stopped: a *dangling* migration - the
  resource is not active on the source, but a stop is still sent there;
- ``migrate_to`` done, ``migrate_from`` not: a *partial* migration - active on
  both nodes; it may be finished if the target is chosen again;
- either half failed: active where it may still run, and recovered by stop
  and start (never migrated again in this transition).

Each rule looks at other nodes' histories, so it reads a :data:`StatusIndex`
of the whole status section rather than the one node being unpacked.
"""

from __future__ import annotations

from paceline.shared import lrm
from paceline.shared.cluster.model import ClusterState, HistoryOp, Resource, Role

#: (resource history id, node name) -> that node's entries for it, in document order.
StatusIndex = dict[tuple[str, str], list[HistoryOp]]

_NON_MONITOR = ("start", "stop", "migrate_to", "migrate_from")
_PENDING_RC = 193       # the rc-code an entry has while its action runs (PCMK_OCF_UNKNOWN)


def is_newer(a: HistoryOp, b: HistoryOp, same_node_default: bool) -> int:
    """1 when ``a`` happened after ``b``, -1 before, 0 when it cannot be told (pe__is_newer_op): by call id
    on one node, by last-rc-change across nodes; a pending entry counts as the newer one."""
    if a is b:
        return 0
    same_node = same_node_default if a.on_node is None or b.on_node is None else a.on_node.lower() == b.on_node.lower()
    if a.call_id == -1 and b.call_id == -1:
        return 0
    if same_node and 0 <= a.call_id < b.call_id:
        return -1
    if same_node and b.call_id >= 0 and a.call_id > b.call_id:
        return 1
    if a.call_id >= 0 and b.call_id >= 0 and (not same_node or a.call_id == b.call_id):
        last_a = a.rc_change if a.rc_change is not None else -1
        last_b = b.rc_change if b.rc_change is not None else -1
        if 0 <= last_a < last_b:
            return -1
        if last_b >= 0 and last_a > last_b:
            return 1
        return 0
    return 1 if a.call_id == -1 else -1


def find_op(index: StatusIndex, rid: str, task: str, node: str, peer: str | None = None,
            rc: int | None = None) -> HistoryOp | None:
    """The first entry of ``task`` on ``node`` (a migrate_to towards ``peer``, a migrate_from from it);
    with ``rc``, only if that first one completed with it (find_lrm_op)."""
    for op in index.get((rid, node), ()):
        if op.task != task:
            continue
        if peer is not None and task == "migrate_to" and op.migrate_target != peer:
            continue
        if peer is not None and task == "migrate_from" and op.migrate_source != peer:
            continue
        if rc is not None and (op.rc != rc or op.op_status != lrm.EXEC_DONE):
            return None
        return op
    return None


def _non_monitor_after(index: StatusIndex, rid: str, node: str, op: HistoryOp, same_node: bool) -> bool:
    return any(other is not op and other.task in _NON_MONITOR and is_newer(other, op, same_node) > 0
               for other in index.get((rid, node), ()))


def _monitor_not_running_after(index: StatusIndex, rid: str, node: str, op: HistoryOp, same_node: bool) -> bool:
    monitor = find_op(index, rid, "monitor", node, rc=lrm.OCF_NOT_RUNNING)
    return monitor is not None and is_newer(monitor, op, same_node) > 0


def _newer_state_after(index: StatusIndex, rid: str, node: str, migrate_to: HistoryOp | None,
                       migrate_from: HistoryOp | None) -> bool:
    """Did the resource do anything on ``node`` after the migration (compared with the migration's own
    entry on that node where there is one: call ids are more reliable)?"""
    either = migrate_from or migrate_to
    assert either is not None
    op, same_node = either, False
    own, other = (migrate_from, migrate_to) if node == either.migrate_target else \
        (migrate_to, migrate_from) if node == either.migrate_source else (None, None)
    if own is not None:
        op, same_node = own, True
    elif other is not None:
        op = other
    return _non_monitor_after(index, rid, node, op, same_node) or \
        _monitor_not_running_after(index, rid, node, op, same_node)


def _unknown_on(index: StatusIndex, rid: str, node: str) -> bool:
    return not any(op.rc != _PENDING_RC for op in index.get((rid, node), ()))


def _may_still_run(index: StatusIndex, rid: str, node: str, migrate_to: HistoryOp | None,
                   migrate_from: HistoryOp | None) -> bool:
    """Known on ``node`` and nothing happened there since the migration: it may still run there."""
    return not _unknown_on(index, rid, node) and not _newer_state_after(index, rid, node, migrate_to, migrate_from)


def _add_running(state: ClusterState, rsc: Resource, node: str | None) -> None:
    """Count the resource active on another node of the migration, if that node is up."""
    n = state.nodes.get(node) if node is not None else None
    if n is not None and n.online and n.name not in rsc.status.active_on:
        rsc.status.active_on.append(n.name)
        rsc.status.known_on.add(n.name)


def _fail(rsc: Resource) -> None:
    """The migration failed where it still matters: recover by stop and start, do not migrate."""
    rsc.status.failed = True
    rsc.status.stop_if_failed = True
    rsc.status.migration_failed = True


def migrate_to_success(index: StatusIndex, state: ClusterState, rsc: Resource, node: str, op: HistoryOp) -> Role | None:
    """A completed migrate_to on ``node`` (the source): the role to record there, None to keep it."""
    source, target = op.migrate_source, op.migrate_target
    if source is None or target is None or source != node:
        return None
    rid = rsc.history_id
    source_newer = _non_monitor_after(index, rid, source, op, True)
    migrate_from = find_op(index, rid, "migrate_from", target, source)
    if source_newer and migrate_from is not None:
        return None
    target_newer = _newer_state_after(index, rid, target, op, migrate_from)
    if source_newer and target_newer:
        return None
    if migrate_from is not None and migrate_from.rc == lrm.OCF_SUCCESS and migrate_from.op_status == lrm.EXEC_DONE:
        if source not in rsc.status.dangling_migrations:
            rsc.status.dangling_migrations.append(source)
        return Role.STOPPED
    target_node = state.nodes.get(target)
    target_up = not target_newer and target_node is not None and target_node.online
    if migrate_from is not None and migrate_from.op_status != lrm.EXEC_PENDING:     # migrate_from failed
        if target_up:
            _add_running(state, rsc, target)
        else:
            _fail(rsc)
    elif target_up:             # partial: migrate_from pending or never sent
        _add_running(state, rsc, target)
        source_node = state.nodes.get(source)
        if source_node is not None and source_node.online:
            rsc.status.partial_migration = (source, target)
    elif not source_newer:
        _fail(rsc)
    return Role.STARTED


def migrate_to_failure(index: StatusIndex, state: ClusterState, rsc: Resource, node: str, op: HistoryOp) -> None:
    """A failed migrate_to on ``node``: the resource may have reached the target too."""
    source, target = op.migrate_source, op.migrate_target
    if source is None or target is None or source != node:
        return
    rid = rsc.history_id
    migrate_from = find_op(index, rid, "migrate_from", target, source, rc=lrm.OCF_SUCCESS)
    if _may_still_run(index, rid, target, op, migrate_from):
        _add_running(state, rsc, target)
    elif not _non_monitor_after(index, rid, source, op, False) and source not in rsc.status.dangling_migrations:
        rsc.status.dangling_migrations.append(source)


def migrate_from_failure(index: StatusIndex, state: ClusterState, rsc: Resource, node: str, op: HistoryOp) -> None:
    """A failed migrate_from on ``node`` (the target): the resource may still run on the source."""
    source, target = op.migrate_source, op.migrate_target
    if source is None or target is None or target != node:
        return
    rid = rsc.history_id
    migrate_to = find_op(index, rid, "migrate_to", source, target, rc=lrm.OCF_SUCCESS)
    if _may_still_run(index, rid, source, migrate_to, op):
        _add_running(state, rsc, source)
