"""Resource state from the ``lrm_rsc_op`` history: where each resource runs, in which role, failed or not.

Pacemaker derives everything from the operation history rather than from a
stored "current state", so this module replays each node's ops in call order
and applies the same remapping of return codes, on-fail handling and failure
expiry. Only the executor's records (see ``paceline.shared.lrm``) are read.
"""

from __future__ import annotations

import copy
import re

from paceline.shared import cib, lrm
from paceline.shared.cib import Element
from paceline.shared.cluster import locks, migration_history, remote
from paceline.shared.cluster.digests import check_op
from paceline.shared.cluster.migration_history import StatusIndex
from paceline.shared.cluster.model import (
    ClusterState,
    FailedOp,
    HistoryOp,
    Node,
    Resource,
    Role,
    on_fail_rank,
)
from paceline.shared.cluster.rules import RuleContext
from paceline.shared.cluster.scores import INF, parse_score
from paceline.shared.cluster.status_view import is_unique
from paceline.shared.cluster.values import INT64_MAX, INT64_MIN, whole_int

_TASKS = {"monitor", "start", "stop", "promote", "demote", "migrate_to", "migrate_from"}
_IGNORED_TASKS = {"notify", "reload", "reload-agent", "meta-data", "validate-all", "cancel"}
_HARD_RC = {lrm.OCF_ERR_ARGS, lrm.OCF_ERR_PERM, lrm.OCF_ERR_INSTALLED}
#: A failed stop with one of these return codes cannot be retried: unless the node can be fenced, the resource
#: is blocked.
_STOP_UNRECOVERABLE_RC = {lrm.OCF_ERR_UNIMPLEMENTED, lrm.OCF_ERR_INSTALLED, lrm.OCF_ERR_ARGS, lrm.OCF_ERR_PERM}
#: The agent says the resource runs promoted (failed or not).
_PROMOTED_RC = (lrm.OCF_RUNNING_PROMOTED, lrm.OCF_FAILED_PROMOTED)
#: What a degraded-but-running result counts as.
_DEGRADED_AS = {lrm.OCF_DEGRADED: lrm.OCF_SUCCESS, lrm.OCF_DEGRADED_PROMOTED: lrm.OCF_RUNNING_PROMOTED}
#: Probe results that tell where a resource runs or not; such a probe never expires.
_PROBE_ANSWERS = (lrm.OCF_SUCCESS, lrm.OCF_NOT_RUNNING, lrm.OCF_RUNNING_PROMOTED, lrm.OCF_DEGRADED,
                  lrm.OCF_DEGRADED_PROMOTED)
_CLEARABLE = {"block", "ignore", "demote", "restart", "restart-container"}


def _int(value: str | None, default: int = 0) -> int:
    """A whole number of the history (call-id, rc-code, a time stamp); ``default`` when it is none. A longer
    one than 64 bits hold is clipped: a record written by anything but an executor must not stop the DC."""
    if value is not None and 0 < len(value) < 19 and value.isdigit() and value.isascii():
        return int(value)       # what nearly every entry holds (whole_int's own fast path, without the call)
    number = whole_int(value, None, INT64_MIN, INT64_MAX)
    return default if number is None else number


def _expected_rc(key: str | None) -> int | None:
    if not key:
        return None
    parts = key.split(":")
    return whole_int(parts[2], None, -(2**31), 2**31 - 1) if len(parts) >= 3 else None


def _int32(value: str) -> int | None:
    """An rc-code or op-status: nearly always a few plain digits (``whole_int``'s own fast path, without the call)."""
    if 0 < len(value) < 10 and value.isdigit() and value.isascii():
        return int(value)
    return whole_int(value, None, -(2**31), 2**31 - 1)


def parse_op(el: Element, index: int) -> HistoryOp | None:
    a = cib.attributes(el)
    task = a.get("operation", "")
    rc = a.get("rc-code")
    status = a.get("op-status")
    if rc is None or status is None:
        return None
    rc_i, status_i = _int32(rc), _int32(status)
    if rc_i is None or status_i is None:       # Pacemaker ignores such an entry too
        return None
    interval = _int(a.get("interval"), 0)
    expected = _expected_rc(a.get("transition-key"))
    if expected is None:
        probe_not_running = task == "monitor" and interval == 0 and rc_i == lrm.OCF_NOT_RUNNING
        expected = lrm.OCF_NOT_RUNNING if probe_not_running else lrm.OCF_SUCCESS
    op_id = a.get("id", "")
    rc_change = a.get("last-rc-change")
    # Positional, in HistoryOp's field order: this runs once per history entry (thousands on a large cluster).
    return HistoryOp(
        op_id, task, interval, rc_i, status_i, _int(a.get("call-id"), -1), expected,
        _int(rc_change, _int(a.get("last-run"), 0)), a.get("op-digest"), a.get("op-restart-digest"),
        a.get("op-secure-digest"), index, a.get("exit-reason", ""), _int(a.get("exec-time")),
        _int(a.get("queue-time")), a.get("op-secure-params"), a.get("op-force-restart"),
        a.get("operation_key") or op_id, None if rc_change is None else _int(rc_change),
        a.get("migrate_source"), a.get("migrate_target"), a.get("on_node"))


def sort_ops(ops: list[HistoryOp]) -> list[HistoryOp]:
    """Oldest first: reverse document order, then call-id, then last-rc-change; pending ones last."""
    ordered = sorted(ops, key=lambda o: -o.doc_index)
    return sorted(ordered, key=lambda o: (o.call_id < 0, max(o.call_id, 0), o.last_rc_change))


_FAIL_SUFFIX = re.compile(r"^.+_[0-9]+$")


def _fail_index(node: Node) -> dict[str, tuple[int, int]]:
    """Index ``fail-count-RSC#op_interval`` / ``last-failure-RSC#...`` attributes by resource once per node."""
    index: dict[str, tuple[int, int]] = {}
    for name, value in node.attrs.items():
        if name.startswith("fail-count-"):
            rest, is_count = name[len("fail-count-"):], True
        elif name.startswith("last-failure-"):
            rest, is_count = name[len("last-failure-"):], False
        else:
            continue
        rid, sep, op = rest.rpartition("#")
        if not sep or not rid or not _FAIL_SUFFIX.match(op):
            continue
        total, last = index.get(rid, (0, 0))
        if is_count:
            total = min(INF, total + parse_score(value, 0))
        else:
            last = max(last, _int(value, 0))
        index[rid] = (total, last)
    return index


def _node_fail_index(node: Node) -> dict[str, tuple[int, int]]:
    if node.fail_index is None:
        node.fail_index = _fail_index(node)
    return node.fail_index


def fail_count(state: ClusterState, rsc: Resource, node: Node) -> tuple[int, int]:
    """Sum of ``fail-count-RSC#op_interval`` attributes and the latest ``last-failure-RSC#...``.

    An anonymous clone instance's failures are recorded under whatever instance number its history had
    (``RSC:N``) or none: all of them count, as Pacemaker's fail-count pattern for an anonymous clone
    (``generate_fail_regex``) matches any instance number; a globally-unique instance's only its own.
    """
    index = _node_fail_index(node)
    if rsc.clone_of is None or _unique(state, rsc):
        return index.get(rsc.id, (0, 0))
    total, last = index.get(rsc.history_id, (0, 0))
    for key in _numbered_keys(index, rsc.history_id):
        count, when = index[key]
        total, last = min(INF, total + count), max(last, when)
    return total, last


def _numbered_keys(index: dict[str, tuple[int, int]], base: str) -> list[str]:
    """The ``BASE:N`` keys of a fail index."""
    prefix = base + ":"
    return [k for k in index if k.startswith(prefix) and k[len(prefix):].isdigit()]


def has_fail_counts(state: ClusterState, rsc: Resource) -> bool:
    """Whether any node records a failure of ``rsc`` (most resources of a healthy cluster: none)."""
    # A node without fail-count attributes at all (most of a healthy cluster's) counts none for anyone.
    return any(_node_fail_index(node) and fail_count(state, rsc, node)[0] for node in state.nodes.values())


def effective_fail_count(state: ClusterState, rsc: Resource, node: Node) -> int:
    count, last = fail_count(state, rsc, node)
    expires = count and rsc.failure_timeout_ms and last > 0 and not _blocks_expiry(rsc)
    if expires and state.now > last + rsc.failure_timeout_ms / 1000:
        return 0
    return count


def _blocks_expiry(rsc: Resource) -> bool:
    return any(op.on_fail == "block" for op in rsc.ops)


def on_fail_for(state: ClusterState, rsc: Resource, task: str, interval: int) -> str:
    value = None
    for op in rsc.ops:
        if op.name == task and op.interval_ms == interval:
            value = op.on_fail
            break
    if value is None:
        ctx = RuleContext(now=state.now, agent=rsc.agent, op=(task, interval))
        value = state.op_defaults.get(ctx).get("on-fail")
    value = (value or "").lower()
    if value == "nothing":
        value = "ignore"
    if value == "migrate":
        value = "ban"
    if value == "restart-container" and rsc.launcher is None:
        value = ""
    if not value and rsc.launcher is not None:
        value = "restart-container"
    if not value or not rsc.managed:
        value = remote.default_on_fail(state, rsc, task, interval) or value
    if task == "stop" and value in ("standby", "demote", "stop"):
        value = ""
    if value == "fence" and not state.fencing_enabled:
        value = "stop"
    if value not in ("ignore", "block", "fence", "standby", "ban", "stop", "restart", "demote", "restart-container",
                     "reset-remote"):
        value = ("fence" if state.fencing_enabled else "block") if task == "stop" else "restart"
    return value


def unpack_history(root: Element, state: ClusterState) -> None:
    status = root.find("status")
    if status is None:
        return
    by_id = {n.id: n for n in state.nodes.values()}
    entries: list[tuple[Node, Element]] = []
    seen: set[str] = set()
    for ns in status.iterfind("node_state"):
        node = by_id.get(ns.get("id", "")) or state.nodes.get(ns.get("uname", ""))
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        entries.append((node, ns))
    read_offline = state.fencing_enabled or locks.enabled(state)
    # Every node's history, a remote node's included, indexed for the rules that look across nodes (migration).
    grouped_by_node = {node.name: _grouped(ns) for node, ns in entries}
    index: StatusIndex = {
        (rid, node): [op for i, el in enumerate(op_elements) if (op := parse_op(el, i)) is not None]
        for node, grouped in grouped_by_node.items() for rid, (_lr, op_elements) in grouped.items()}
    # unpack_node_history: with fencing (or shutdown locks) every cluster node's history in document order,
    # else only online nodes' - which decides which anonymous clone instance number each history entry takes;
    # remote nodes' once their connections are known.
    entries = [e for e in entries if e[0].kind == "cluster"]
    passes = entries if read_offline else [e for e in entries if e[0].online]
    for node, _ns in passes:
        _unpack_node(node, grouped_by_node[node.name], state, index)
    remote.unpack_histories(state, status, lambda node, ns: _unpack_node(node, _grouped(ns), state, index))
    for rsc in state.primitives():
        if rsc.status.role == Role.STARTED and rsc.clone_of is not None and state.by_id[rsc.clone_of].promotable:
            rsc.status.role = Role.UNPROMOTED     # a promotable clone's instance runs in one of its two roles
        if rsc.target_role is not None and (rsc.next_role is None or rsc.target_role < rsc.next_role):
            rsc.next_role = rsc.target_role
            rsc.next_role_reason = "target-role"


def _grouped(ns: Element) -> dict[str, tuple[Element, list[Element]]]:
    """A node's lrm_resource elements by id, with their entries: records of one resource may be split over
    several elements (a status patch that did not match the original element's id); they are one history."""
    grouped: dict[str, tuple[Element, list[Element]]] = {}
    for lr in ns.iterfind("lrm/lrm_resources/lrm_resource"):
        entry = grouped.setdefault(lr.get("id", ""), (lr, []))
        entry[1].extend(cib.elements(lr, "lrm_rsc_op"))     # cheaper than iterfind's path
    return grouped


def _unpack_node(node: Node, grouped: dict[str, tuple[Element, list[Element]]], state: ClusterState,
                 index: StatusIndex) -> None:
    """One node's resource history."""
    for rid, (lr, op_elements) in grouped.items():
        ops = index.get((rid, node.name))
        if ops is None:
            ops = [op for i, el in enumerate(op_elements) if (op := parse_op(el, i)) is not None]
        _unpack_lrm_resource(lr, bool(op_elements), ops, node, state, index)
    remote.map_orphan_fillers(state, [lr for lr, _ops in grouped.values()])


def _find_or_orphan(lr: Element, has_ops: bool, state: ClusterState, node: Node) -> Resource | None:
    """The resource a history entry (``lrm_resource``) on ``node`` belongs to; an orphan when none does.

    An anonymous clone's entries are matched as Pacemaker's unpack_find_resource does: whatever instance
    number an entry carries, it belongs to the instance active on that node, else to the first instance
    active nowhere (so the numbers in a CIB's history need not be the ones the instances get)."""
    rid = lr.get("id", "")
    rsc = state.by_id.get(rid)
    base = rid.rsplit(":", 1)[0]
    if rsc is not None and rsc.orphan and base in state.clones:
        rsc = None      # an orphan made from another node's entry never shadows the clone (resources first)
    anonymous = state.clones.get(base) if rsc is None or rsc.clone_of is not None else None
    bundle_id = anonymous[0].in_bundle if anonymous else None     # a bundled clone's: its replicas' or an orphan's
    if anonymous and bundle_id is not None and not _unique(state, anonymous[0]):
        found = _bundle_replica_instance(state, bundle_id, node)
        if found is not None:
            found.history_name = rid
            return found
    elif anonymous and not anonymous[0].is_group and not _unique(state, anonymous[0]):
        found = _find_anonymous(anonymous, node, state) or _orphan_instance(state, anonymous[0], base)
        found.history_name = rid    # unpack_find_resource: what its history calls it (the last entry's)
        return found
    if rsc is not None and not rsc.is_group:
        return rsc
    if rid in state.clones and bundle_id is None and not _unique(state, state.clones[rid][0]):
        # an anonymous clone's history names no instance: one not yet known here takes it (a globally unique
        # clone's instances are named in their history: a history under the base id is an orphan's)
        instances = [i for i in state.clones[rid] if node.name not in i.status.history]
        # An instance active on another node is never taken (find_anonymous_clone takes an inactive one).
        free = next((i for i in instances if _instance_seen(i, node.name)), None) or \
            next((i for i in instances if not any(p.status.active_on for p in _instance_parts(i))), None) or \
            next(iter(instances), None)
        if free is not None:
            return free
    if not has_ops:
        return None
    orphan_id = rid if rsc is None else f"{rid}:removed"
    existing = state.by_id.get(orphan_id)
    if existing is not None:
        return existing
    orphan = Resource(id=orphan_id, kind="primitive", orphan=True,
                      agent={k: lr.get(k, "") for k in ("class", "provider", "type") if lr.get(k)})
    orphan.managed = state.stop_orphans and not state.maintenance_mode
    orphan.requires = "fencing" if state.fencing_enabled else "quorum"
    orphan.doc_index = len(state.resources)
    if state.stop_orphans:
        orphan.status.unpack_scores.append((None, -INF, "removed from the configuration"))
    state.by_id[orphan_id] = orphan
    state.resources.append(orphan)
    remote.adopt_orphan(state, orphan, lr)
    return orphan


def _bundle_replica_instance(state: ClusterState, bundle_id: str, node: Node) -> Resource | None:
    """A bundled resource's history belongs to the instance of the replica whose guest node it is on
    (``pe__find_bundle_replica``); on any other node to none (an orphan's)."""
    bundle = state.by_id.get(bundle_id)
    replicas = bundle.bundle.replicas if bundle is not None and bundle.bundle is not None else []
    return next((r.child for r in replicas if r.node == node.name), None)


def _banned(state: ClusterState, rsc: Resource) -> Resource:
    """What a hard or fatal error bans: an anonymous clone's instance takes its whole clone (every instance
    is the same resource), as ``unpack_rsc_op`` bans its uber-parent; the placer gives a clone's ban to each
    of its instances too."""
    clone = state.by_id.get(rsc.clone_of) if rsc.clone_of is not None else None
    return clone if clone is not None and not is_unique(clone) else rsc


def _unique(state: ClusterState, instance: Resource) -> bool:
    """An instance of a globally-unique clone: its history and fail counts are its own, by its own id."""
    clone = state.by_id.get(instance.clone_of or "")
    return clone is not None and is_unique(clone)


def _find_anonymous(parts: list[Resource], node: Node, state: ClusterState) -> Resource | None:
    """Which instance of an anonymous clone a history entry on ``node`` belongs to, as Pacemaker's
    ``find_anonymous_clone`` decides: the instance number in the entry's id means nothing. The instance
    already active (or pending) on the node takes it; if that very instance (member) is already running
    there, this is a second history of it, an orphan (None); otherwise the first instance active nowhere
    (not blocked, not pending elsewhere). An instance on an offline or unclean node whose clone does not
    require fencing is not given a number either (None), unless the clone runs on every node."""
    found: Resource | None = None
    inactive: Resource | None = None
    skip_inactive = False
    for part in parts:
        instance = part.parent if part.parent is not None else part
        where = [n for p in instance.primitives() for n in (*p.status.active_on, *p.status.pending_task)]
        if where:
            if node.name in where:
                if part.status.active_on:      # a second history of one active here: only another such instance may
                    skip_inactive = True     # take it (a cloned group's orphan whose other member runs here)
                    continue
                found = part
                break
        elif inactive is None and not skip_inactive and not part.status.blocked:
            inactive = part
            if any(n != node.name for n in part.status.pending_task):
                inactive = None
    found = found or (None if skip_inactive else inactive)
    if found is not None and found.requires not in ("fencing", "unfencing") and (not node.online or node.unclean):
        clone = state.by_id.get(found.clone_of or "")
        if clone is None or sum(1 for i in clone.children if not i.orphan) != len(state.nodes):
            return None
    return found


#: What a clone instance takes over from its configuration (the rest is history and placement state).
_CONFIG_FIELDS = ("agent", "meta", "params", "node_params", "ops", "utilization", "priority", "stickiness",
                  "migration_threshold", "failure_timeout_ms", "managed", "maintenance", "target_role", "requires",
                  "multiple_active", "critical", "doc_index")


def _orphan_instance(state: ClusterState, sibling: Resource, base: str) -> Resource:
    """A new instance of an anonymous clone for a history no configured instance may take, as Pacemaker's
    ``create_anonymous_orphan`` adds one: numbered after the others, flagged orphaned (it never runs; one
    found active is stopped), listed with the clone's instances. Returns the part the history names."""
    clone = state.by_id[sibling.clone_of or ""]
    template = clone.children[0]
    number = len(clone.children)
    instance = _config_copy(template, f"{template.history_id}:{number}", None)
    instance.children = [_config_copy(m, f"{m.history_id}:{number}", instance) for m in template.children]
    for part in (instance, *instance.children):
        part.orphan = True
        part.clone_of = clone.id
        part.managed = part.managed and state.stop_orphans and not state.maintenance_mode
        if state.stop_orphans:
            part.status.unpack_scores.append((None, -INF, "orphaned clone instance"))
        state.by_id[part.id] = part
        if part.kind == "primitive":
            state.clones.setdefault(part.base_id, []).append(part)
    last = clone.children[-1]
    clone.children.append(instance)
    at = next((i for i, r in enumerate(state.resources) if r is last), len(state.resources) - 1)
    state.resources.insert(at + 1, instance)
    return next((p for p in (instance, *instance.children) if p.history_id == base), instance)


def _config_copy(template: Resource, rid: str, parent: Resource | None) -> Resource:
    """A resource configured as ``template`` is, under another id, with no history."""
    return Resource(id=rid, kind=template.kind, parent=parent,
                    **{name: copy.copy(getattr(template, name)) for name in _CONFIG_FIELDS})


def _instance_parts(instance: Resource) -> list[Resource]:
    """The primitives of one clone instance that share its number (a cloned group's members)."""
    return instance.parent.children if instance.parent is not None else [instance]


def _instance_seen(instance: Resource, node: str | None) -> bool:
    """Has this clone instance (for a group member: any member of its group instance) history on ``node``
    (None: anywhere)? A cloned group's members found on one node belong to one instance."""
    parts = _instance_parts(instance)
    return any((node in p.status.history) if node is not None else bool(p.status.history) for p in parts)


def _failed_with_old_definition(rsc: Resource, node: Node, op: HistoryOp) -> bool:
    """The last failure ran with parameters since changed: its fail count is to be cleared, not held against
    the node (the sysadmin presumably fixed what made it fail)."""
    return (op.id.endswith("_last_failure_0") and op.task in ("start", "monitor") and op.interval_ms == 0
            and check_op(rsc, node.name, op) is not None)


def _unpack_lrm_resource(lr: Element, has_entries: bool, ops: list[HistoryOp], node: Node, state: ClusterState,
                         index: StatusIndex) -> None:
    rsc = _find_or_orphan(lr, has_entries, state, node)
    if rsc is None:
        return
    if not ops:
        return
    ops = sort_ops(ops)
    rsc.status.history[node.name] = ops
    locks.unpack_lock(lr.get("shutdown-lock"), rsc, node, state)
    if any(_failed_with_old_definition(rsc, node, op) for op in ops):
        rsc.status.fail_cleared.add(node.name)
    role = Role.UNKNOWN
    on_fail = "ignore"
    last_failure_key = None
    last_start_call = -1
    count, last_failure = fail_count(state, rsc, node)
    for op in ops:
        succeeded = op.rc == op.expected_rc and op.op_status == lrm.EXEC_DONE
        if op.task not in _TASKS and (op.task in _IGNORED_TASKS or succeeded):
            continue
        if _expired(state, rsc, op, count, last_failure):
            continue
        if op.op_status == lrm.EXEC_PENDING:
            if op.task in ("start", "migrate_from"):
                role = max(role, Role.STARTED)
            elif op.task == "promote":
                role = Role.PROMOTED
            if not (op.task == "monitor" and op.interval_ms == 0):   # a pending probe is never shown
                rsc.status.pending_task.setdefault(node.name, op.task)
            continue
        rc = _DEGRADED_AS.get(op.rc, op.rc)
        is_probe = op.task == "monitor" and op.interval_ms == 0
        if is_probe and (rc in (lrm.OCF_ERR_INSTALLED, lrm.OCF_ERR_ARGS)
                         or op.op_status == lrm.EXEC_NOT_INSTALLED):
            role = Role.STOPPED
            _banned(state, rsc).status.unpack_scores.append((node.name, -INF,
                                                      "probe found the agent not installed or misconfigured"))
            if node.online:
                rsc.status.failed_probes[node.name] = op.rc
            on_fail = _clear(on_fail)
            continue
        status = op.op_status
        if status in (lrm.EXEC_DONE, lrm.EXEC_ERROR):
            # A generic error is a failure even when it was the expected result (remap_operation).
            status = lrm.EXEC_DONE if rc == op.expected_rc and rc != lrm.OCF_ERR_GENERIC else lrm.EXEC_ERROR
            not_running_ok = rc == lrm.OCF_NOT_RUNNING and (is_probe or op.expected_rc == lrm.OCF_NOT_RUNNING
                                                           or not rsc.managed)
            if not_running_ok or (is_probe and rc in (lrm.OCF_SUCCESS, lrm.OCF_RUNNING_PROMOTED)):
                status = lrm.EXEC_DONE
            elif rc == lrm.OCF_ERR_CONFIGURED and status != lrm.EXEC_DONE:
                status = lrm.EXEC_ERROR_FATAL
            elif rc in _HARD_RC and status != lrm.EXEC_DONE:
                status = lrm.EXEC_ERROR_HARD
            elif rc == lrm.OCF_ERR_UNIMPLEMENTED and status != lrm.EXEC_DONE:
                status = lrm.EXEC_ERROR_HARD if op.interval_ms == 0 else lrm.EXEC_NOT_SUPPORTED
        elif status == lrm.EXEC_CANCELLED:
            continue
        if status == lrm.EXEC_DONE:
            role = _role_after_success(op, rc, role)
            if op.task == "migrate_to":
                role = migration_history.migrate_to_success(index, state, rsc, node.name, op) or role
            if op.task in ("start", "migrate_from"):
                last_start_call = op.call_id
            if op.task in ("start", "stop", "promote", "migrate_from") or rc == lrm.OCF_NOT_RUNNING or \
                    (last_failure_key is not None and op.task == "monitor"
                     and f"{op.task}_{op.interval_ms}" == last_failure_key):
                on_fail = _clear(on_fail)
            continue
        # ---- a failure
        hard = status in (lrm.EXEC_ERROR_HARD, lrm.EXEC_NOT_INSTALLED)
        fatal = status == lrm.EXEC_ERROR_FATAL
        configured = on_fail_for(state, rsc, op.task, op.interval_ms)
        action = "ignore" if node.unclean else configured
        if not any(f.key == op.key and f.node == node.name for f in state.failed_ops):   # record_failed_op
            state.failed_ops.append(FailedOp(rsc.id, op.task, op.interval_ms, node.name, op.rc, op.op_status,
                                             op.exit_reason, op.call_id, op.last_rc_change, op.exec_ms,
                                             op.queue_ms, op.key, op.rc_change))
        last_failure_key = f"{op.task}_{op.interval_ms}"
        if configured == "ignore" and not (hard or fatal):
            rsc.status.ignore_failure = True
            role = _role_after_success(op, lrm.OCF_RUNNING_PROMOTED if rc in _PROMOTED_RC else lrm.OCF_SUCCESS,
                                       role)
            continue
        if configured == "restart-container" and op.task == "stop":
            # Restarting the launcher stops whatever it launched, so the failed stop counts as done.
            rsc.status.ignore_failure = True
            role = _role_after_success(op, lrm.OCF_SUCCESS, role)
            if on_fail_rank(on_fail) <= on_fail_rank("restart"):
                on_fail = configured
            continue
        if action == "ignore" and (hard or fatal) and not node.unclean:
            action = "restart"
        if on_fail_rank(action) > on_fail_rank(on_fail):
            on_fail = action
        if op.task == "stop":
            rsc.status.unpack_scores.append((node.name, -INF, "stop failed here"))
            if rc in _STOP_UNRECOVERABLE_RC and not state.can_fence(node):
                rsc.managed = False
                rsc.status.blocked = True
        if hard:
            _banned(state, rsc).status.unpack_scores.append((node.name, -INF, "hard error here"))
        elif fatal:
            _banned(state, rsc).status.unpack_scores.append((None, -INF, "fatal error"))
        if op.task == "migrate_to":
            migration_history.migrate_to_failure(index, state, rsc, node.name, op)
        elif op.task == "migrate_from":
            migration_history.migrate_from_failure(index, state, rsc, node.name, op)
        if op.task == "demote":
            # Staying promoted would loop; recovery stops it anyway (unpack_rsc_op_failure). With on-fail=block
            # it stays promoted and is to be stopped.
            role = Role.PROMOTED if configured == "block" else Role.UNPROMOTED
        elif op.task == "promote" or rc in _PROMOTED_RC:
            role = Role.PROMOTED
        elif role < Role.STARTED:
            role = Role.STARTED
        if action == "stop":
            rsc.next_role = Role.STOPPED
            rsc.next_role_reason = "on-fail=stop"
    _record_monitors(rsc, node, ops, last_start_call)
    _process_state(state, rsc, node, role, on_fail)


def _expired(state: ClusterState, rsc: Resource, op: HistoryOp, count: int, last_failure: int) -> bool:
    if rsc.failure_timeout_ms <= 0 or _blocks_expiry(rsc):
        return False
    is_probe = op.task == "monitor" and op.interval_ms == 0
    if is_probe and op.rc in _PROBE_ANSWERS:
        return False
    if op.op_status == lrm.EXEC_NOT_INSTALLED or remote.keeps_monitor_failure(state, rsc, op.task, op.interval_ms):
        return False
    if op.rc == op.expected_rc and op.op_status == lrm.EXEC_DONE:
        return False
    if op.last_rc_change + rsc.failure_timeout_ms / 1000 > state.now:
        return False
    # An unexpired fail count keeps the failure it counts alive.
    return not (count > 0 and last_failure > 0 and last_failure + rsc.failure_timeout_ms / 1000 > state.now)


def _clear(on_fail: str) -> str:
    return "ignore" if on_fail in _CLEARABLE else on_fail


def _role_after_success(op: HistoryOp, rc: int, role: Role) -> Role:
    if op.task in ("start", "migrate_from"):
        return Role.STARTED
    if op.task == "stop":
        return Role.STOPPED
    if op.task == "promote":
        return Role.PROMOTED
    if op.task == "demote":
        return Role.UNPROMOTED
    if op.task == "monitor":
        if rc == lrm.OCF_NOT_RUNNING:
            return Role.STOPPED
        if rc == lrm.OCF_RUNNING_PROMOTED:
            return Role.PROMOTED
        return max(role, Role.STARTED)
    return role


def _record_monitors(rsc: Resource, node: Node, ops: list[HistoryOp], last_start_call: int) -> None:
    active: set[int] = set()
    for op in ops:
        if op.task == "stop" and op.call_id > last_start_call and op.op_status == lrm.EXEC_DONE:
            active.clear()
        elif op.task == "monitor" and op.interval_ms > 0 and op.call_id >= last_start_call \
                and op.op_status in (lrm.EXEC_DONE, lrm.EXEC_ERROR):
            active.add(op.interval_ms)
    rsc.status.active_monitors[node.name] = active


def _process_state(state: ClusterState, rsc: Resource, node: Node, role: Role, on_fail: str) -> None:
    if role == Role.UNKNOWN:
        return
    rsc.status.known_on.add(node.name)
    active = role > Role.STOPPED
    if active and not node.online and rsc.managed and not node.maintenance and node.kind != "cluster":
        remote.active_on_down_node(state, rsc, node)
    elif active and not node.online and rsc.managed and not node.maintenance and state.fencing_enabled:
        node.mark_unclean(f"{rsc.id} is thought to be active there")
    if on_fail == "block":
        rsc.managed = False
        rsc.status.blocked = True
    elif on_fail == "ban":
        rsc.status.unpack_scores.append((node.name, -INF, "on-fail=ban after a failure here"))
    elif on_fail == "stop":
        rsc.next_role = Role.STOPPED
        rsc.next_role_reason = "on-fail=stop"
    elif on_fail == "standby":
        node.standby = True
    elif on_fail == "fence":
        node.mark_unclean(f"{rsc.id} failed there")
    elif on_fail == "restart-container" and rsc.launcher is not None:
        rsc.launcher.restart_on.add(node.name)
    remote.connection_failed(state, rsc, on_fail, active)
    if not active:
        return
    if node.name not in rsc.status.active_on:
        rsc.status.active_on.append(node.name)
    rsc.status.role = max(rsc.status.role, role)
    if on_fail not in ("ignore", "block", "demote"):
        rsc.status.failed = True
        rsc.status.stop_if_failed = True
    elif on_fail == "demote":
        rsc.status.failed = True
    if node.maintenance:
        rsc.managed = False
    if not rsc.managed:
        rsc.status.unpack_scores.append((node.name, INF, "unmanaged: stays where it runs"))
