"""crm_mon-style text for an unpacked cluster: node list, resources, failed actions.

The layout is the one crm_simulate prints under "Current cluster status:", so
sysadmins read Paceline's status exactly as they read Pacemaker's.
"""

from __future__ import annotations

import time

from paceline.shared import cib, lrm
from paceline.shared.cluster.model import ClusterState, FailedOp, Node, Resource, Role
from paceline.shared.lrm import EXEC_TEXT, RC_TEXT


def _node_lines(state: ClusterState) -> list[str]:
    lines: list[str] = []
    online: list[str] = []
    offline: list[str] = []
    for node in state.nodes.values():
        special = _node_special(node, state)
        if special:
            lines.append(f"    * Node {node.name}: {special}")
        elif node.online:
            online.append(node.name)
        else:
            offline.append(node.name)
    if online:
        lines.append(f"    * Online: [ {' '.join(online)} ]")
    if offline:
        lines.append(f"    * OFFLINE: [ {' '.join(offline)} ]")
    return lines


def _node_special(node: Node, state: ClusterState) -> str | None:
    if node.unclean:
        return "UNCLEAN (online)" if node.online else "UNCLEAN (offline)"
    if node.pending:
        return "pending"
    if not node.online:
        return "OFFLINE (maintenance)" if node.maintenance else None
    if node.maintenance:
        return "maintenance"
    if node.standby:
        busy = any(node.name in p.active_on for p in state.primitives())
        return "standby (with active resources)" if busy else "standby"
    return None


def _agent(rsc: Resource) -> str:
    return cib.agent_text(rsc.agent.get("class", ""), rsc.agent.get("provider"), rsc.agent.get("type", ""))


#: What crm_mon shows instead of the role while one of these operations is still in flight.
_PENDING_WORDS = {"start": "Starting", "stop": "Stopping", "migrate_to": "Migrating", "migrate_from": "Migrating",
                  "promote": "Promoting", "demote": "Demoting"}


def _primitive_line(rsc: Resource, state: ClusterState, indent: str) -> str:
    flags: list[str] = []
    if rsc.target_role == Role.STOPPED:
        flags.append("disabled")
    if rsc.maintenance:
        flags.append("maintenance")
    elif not rsc.managed and not (state.fencing_enabled and not state.have_fencing):
        flags.append("blocked" if rsc.blocked else "unmanaged")
    if rsc.ignore_failure and rsc.active_on:
        flags.append("failure ignored")
    nodes = rsc.active_on
    if not nodes:
        text = "Stopped" if rsc.lock_node is None else f"Stopped {rsc.lock_node}"
        if rsc.lock_node is not None:
            flags.insert(0, "LOCKED")
    else:
        word = "FAILED" if rsc.failed else _PENDING_WORDS.get(rsc.pending_task.get(nodes[0], "")) or (
            rsc.role.text if rsc.role > Role.STOPPED else "Started")
        if rsc.orphan:
            word = "ORPHANED " + word
        if len(nodes) == 1:
            text = f"{word} {nodes[0]}"
            if rsc.lock_node == nodes[0]:
                flags.insert(0, "LOCKED")
            if state.nodes[nodes[0]].unclean:
                flags.insert(0, "UNCLEAN")
        else:
            text = f"{word} [ {' '.join(nodes)} ]"
    suffix = f" ({', '.join(flags)})" if flags else ""
    return f"{indent}* {rsc.id}\t({_agent(rsc)}):\t {text}{suffix}"


def _when(stamp: int | None) -> str:
    """A history time stamp as crm_mon prints it (local time, ctime's layout); empty when unset or beyond
    what a calendar shows."""
    if stamp is None:
        return ""
    try:
        return time.strftime(cib.TIME_FORMAT, time.localtime(stamp))
    except (OverflowError, ValueError, OSError):
        return ""


def readable_interval(ms: int) -> str:
    """A duration as crm_mon writes it: ``10s``, ``1m30s``, ``1.500s``, ``250ms``. A unit is used only for
    more than one of it (1000 ms is ``1000ms``, one minute ``60s``), as Pacemaker does."""
    out = ""
    for size, unit in ((86_400_000, "d"), (3_600_000, "h"), (60_000, "m")):
        if ms > size:
            out += f"{ms // size}{unit}"
            ms %= size
    if ms > 1000:
        out += f"{ms // 1000}" + (f".{ms % 1000:03d}" if ms % 1000 else "") + "s"
    elif ms > 0:
        out += f"{ms}ms"
    return out or "0s"


_TWO_WORD_TASKS = ("migrate_to", "migrate_from")


def parse_op_key(key: str) -> tuple[str, str, int] | None:
    """(resource, task, interval ms) of an operation key ``RSC_TASK_INTERVAL``; None when it is not one."""
    head, _, interval = key.rpartition("_")
    if not head or not interval.isdigit():
        return None
    for task in _TWO_WORD_TASKS:
        if head.endswith("_" + task):
            return head[:-len(task) - 1], task, int(interval)
    rsc, _, task = head.rpartition("_")
    return (rsc, task, int(interval)) if rsc and task else None


#: crm_mon's words for an execution status that kept an action from giving a result.
_EXEC_WORDS = {**EXEC_TEXT, lrm.EXEC_PENDING: "Pending", lrm.EXEC_DONE: "Done", 8: "Internal communication failure",
               9: "Cannot execute now", 10: "No fence device", 11: "CIB secrets unavailable"}


def _friendly_failure(f: FailedOp) -> str:
    """A failed action in crm_mon's words: ``rsc 10s-interval monitor on node1 returned 'error' (reason)
    at TIME after 20ms``."""
    parsed = parse_op_key(f.key or lrm.op_key(f.rsc, f.task, f.interval_ms))
    rsc, task, interval = parsed if parsed else ("unknown resource", "unknown action", 0)
    text = f"{rsc} " + (f"{readable_interval(interval)}-interval " if interval else "")
    text += ("probe" if task == "monitor" and interval == 0 else task) + f" on {f.node or 'unknown node'}"
    if f.op_status == lrm.EXEC_DONE:
        text += f" returned '{RC_TEXT.get(f.rc, 'unknown')}'" + (f" ({f.exit_reason})" if f.exit_reason else "")
    else:
        text += f" could not be executed ({_EXEC_WORDS.get(f.op_status, 'UNKNOWN')}" + (
            f": {f.exit_reason}" if f.exit_reason else "") + ")"
    if f.rc_change is not None:
        text += f" at {_when(f.rc_change)}"
    if f.exec_ms > 0:
        text += f" after {readable_interval(f.exec_ms)}"
    return text


def _technical_failure(f: FailedOp) -> str:
    """A failed action with every detail (crm_mon's ``--show-detail``)."""
    text = (f"{f.key or lrm.op_key(f.rsc, f.task, f.interval_ms)} on {f.node or 'unknown node'} "
            f"'{RC_TEXT.get(f.rc, 'unknown')}' ({f.rc}): call={f.call_id}, "
            f"status='{_EXEC_WORDS.get(f.op_status, 'UNKNOWN')}'")
    if f.exit_reason:
        text += f", exitreason='{f.exit_reason}'"
    if f.rc_change is not None:
        text += f", last-rc-change='{_when(f.rc_change)}'"
    return text + f", queued={f.queue_ms}ms, exec={f.exec_ms}ms"


def failed_lines(state: ClusterState, detail: bool = False) -> list[str]:
    """The "Failed Resource Actions" items, in crm_mon's words (``detail``: with call ids and timings)."""
    show = _technical_failure if detail else _friendly_failure
    return [f"    * {show(f)}" for f in state.failed_ops]


def _clone_lines(state: ClusterState, clone_id: str) -> list[str]:
    """crm_mon's summary of a clone: the nodes where its instances run (per role for a promotable clone),
    then where they do not."""
    clone = state.by_id.get(clone_id)
    if clone is None or not clone.children:
        return []
    instances = clone.children
    base = instances[0].id.rsplit(":", 1)[0]
    flags = " (promotable)" if clone.promotable else ""
    flags += " (disabled)" if instances[0].target_role == Role.STOPPED else ""
    lines = [f"    * Clone Set: {clone_id} [{base}]{flags}:"]
    plain = {id(i): node for i in instances if (node := _plainly_on(i)) is not None}
    roles = [Role.PROMOTED, Role.UNPROMOTED] if clone.promotable else [Role.STARTED]
    node_order = list(state.nodes)
    for role in roles:
        nodes = sorted({plain[id(i)] for i in instances if id(i) in plain and (i.role == role or not clone.promotable)},
                       key=node_order.index)
        if nodes:
            lines.append(f"      * {role.text}: [ {' '.join(nodes)} ]")
    for instance in instances:
        if id(instance) in plain or not any(p.active_on for p in instance.primitives()):
            continue
        if instance.is_group:
            lines.append(f"      * Resource Group: {instance.id}:")
            lines += [_primitive_line(member, state, "        ") for member in instance.children]
        else:
            lines.append(_primitive_line(instance, state, "      "))
    running = {n for i in instances for p in i.primitives() for n in p.active_on}
    stopped = [n for n in state.nodes if n not in running]
    if stopped:
        lines.append(f"      * Stopped: [ {' '.join(stopped)} ]")
    return lines


def _plainly_on(instance: Resource) -> str | None:
    """The one node a clone instance (every member of a group instance) runs on, healthy and managed."""
    nodes = {n for p in instance.primitives() for n in p.active_on}
    if len(nodes) != 1 or any(p.failed or not p.managed or p.pending_task or len(p.active_on) != 1
                              for p in instance.primitives()):
        return None
    if any(not p.active_on for p in instance.primitives()):
        return None
    return nodes.pop()


#: The status page lists at most this many configuration errors (``paceline simulate`` prints them all).
MAX_CONFIG_ERRORS_SHOWN = 20


def config_error_lines(state: ClusterState) -> list[str]:
    """The note under the status page about what of the configuration cannot be used.

    crm_mon leaves a resource Pacemaker cannot unpack out of its list without a word (crm_verify names it);
    a sysadmin looking for a resource in ``paceline status`` is told here why it is not there, and which
    values were replaced by their defaults."""
    errors = state.config_errors
    if not errors:
        return []
    lines = ["", "  * Configuration Errors:",
             *[f"    * {e}" for e in errors[:MAX_CONFIG_ERRORS_SHOWN]]]
    if len(errors) > MAX_CONFIG_ERRORS_SHOWN:
        lines.append(f"    * ... and {len(errors) - MAX_CONFIG_ERRORS_SHOWN} more")
    return lines


def render_status(state: ClusterState, failed_actions: bool = True, config_errors: bool = True) -> list[str]:
    """crm_simulate's "Current cluster status" (crm_mon's page without its header); with ``config_errors``
    a note on the configuration errors found (``paceline simulate`` prints those as crm_simulate does,
    apart from the status)."""
    lines = ["  * Node List:", *_node_lines(state), "", "  * Full List of Resources:"]
    shown = [r for r in state.resources if not (r.orphan and not r.active_on)]
    if not shown:
        lines.append("    * No resources")
    clones_done: set[str] = set()
    for rsc in shown:
        if rsc.clone_of is not None:
            if rsc.clone_of not in clones_done:
                clones_done.add(rsc.clone_of)
                lines += _clone_lines(state, rsc.clone_of)
            continue
        if rsc.is_group:
            flags = []
            if rsc.target_role == Role.STOPPED:
                flags.append("disabled")
            suffix = f" ({', '.join(flags)})" if flags else ""
            lines.append(f"    * Resource Group: {rsc.id}{suffix}:")
            for member in rsc.children:
                lines.append(_primitive_line(member, state, "      "))
        else:
            lines.append(_primitive_line(rsc, state, "    "))
    if failed_actions and state.failed_ops:
        lines += ["", "  * Failed Resource Actions:", *failed_lines(state)]
    if config_errors:
        lines += config_error_lines(state)
    return lines
