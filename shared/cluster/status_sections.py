"""crm_mon's optional sections of ``paceline status``: resources by node, node attributes, fail counts and the
operation history.

Each is what ``crm_mon`` prints for one of its switches (``-n``, ``-A``,
``-f``, ``-o``/``-t``), built from the cluster model and, for the history, from
the CIB's ``<status>`` as crm_mon reads it (one entry per recorded operation,
in the order the node recorded them). Lines are at crm_mon's indentation; the
page in :mod:`.crm_mon` puts them under their headings.
"""

from __future__ import annotations

import re

from paceline.shared import cib
from paceline.shared.cluster.model import ClusterState, Node, Resource
from paceline.shared.cluster.scores import INF, parse_score
from paceline.shared.cluster.status_view import (
    is_unique,
    node_status_text,
    node_word,
    primitive_line,
    printable_id,
    when,
)
from paceline.shared.cluster.values import is_true, leading_int
from paceline.shared.lrm import RC_TEXT

#: Node attributes crm_mon never lists: the cluster's own bookkeeping.
HIDDEN_ATTRIBUTE_PREFIXES = ("fail-count-", "last-failure-", "shutdown", "terminate", "standby", "#")


def _lrm_entries(root: cib.Element, node: Node) -> list[cib.Element]:
    """The node's ``lrm_resource`` entries, in the order its status holds them."""
    for ns in root.iter("node_state"):
        if ns.get("id") == node.id or (not ns.get("id") and ns.get("uname") == node.name):
            return list(ns.iterfind("lrm/lrm_resources/lrm_resource"))
    return []


def _resource_for(state: ClusterState, rid: str, node: Node) -> Resource | None:
    """The resource a history entry belongs to: by its id, an anonymous clone's instance on this node (or its
    first), or the removed resource the history made of it."""
    rsc = state.by_id.get(rid)
    if rsc is not None and not rsc.is_clone:
        return rsc
    instances = [p for i in state.clones.get(rid, []) for p in i.primitives() if p.history_id == rid] or \
        [i for i in state.clones.get(rid, []) if not i.is_group]
    here = [i for i in instances if node.name in i.status.active_on]
    if here or instances:
        return (here or instances)[0]
    return state.by_id.get(f"{rid}:removed")


def by_node_lines(root: cib.Element, state: ClusterState) -> list[str]:
    """crm_mon ``-n``: every node on its own line, with the resources active there listed under it."""
    lines: list[str] = []
    for node in state.nodes.values():
        lines += [f"  * {node_word(node)} {node.name}: {node_status_text(node, state, unseen_unclean=True)}:",
                  "    * Resources:"]
        seen: set[int] = set()
        for entry in _lrm_entries(root, node):
            for rsc in _active_here(state, entry.get("id", ""), node):
                if id(rsc) not in seen and not is_true(rsc.meta.get("internal")):   # not a guest's connection
                    seen.add(id(rsc))
                    lines.append(primitive_line(rsc, state, "      ", rsc_only=True))
    return lines


def _active_here(state: ClusterState, rid: str, node: Node) -> list[Resource]:
    candidates = [state.by_id[rid]] if rid in state.by_id and not state.by_id[rid].is_clone else []
    candidates += [p for i in state.clones.get(rid, []) for p in i.primitives() if p.history_id == rid]
    candidates += [state.by_id[f"{rid}:removed"]] if f"{rid}:removed" in state.by_id else []
    return [r for r in candidates if not r.is_group and node.name in r.status.active_on]


def _ping_expectation(state: ClusterState, node: Node, name: str) -> int | None:
    """What a ping resource running here expects its attribute to reach (hosts times multiplier), if one
    sets ``name``: crm_mon then says whether connectivity is lost or degraded."""
    for rsc in state.primitives():
        if node.name not in rsc.status.active_on or rsc.agent.get("type", "").lower() not in ("ping", "pingd"):
            continue
        params = rsc.params_on(node.name)
        if (params.get("name") or "pingd").lower() != name.lower():
            continue
        hosts = len((params.get("host_list") or "").split(" ")) if params.get("host_list") else 0
        multiplier = leading_int(params.get("multiplier")) if params.get("multiplier") else 1
        return hosts * (multiplier if multiplier is not None else 1)
    return None


def attribute_lines(state: ClusterState) -> list[str]:
    """crm_mon ``-A``: each online node's own attributes (not the cluster's bookkeeping), sorted by name."""
    lines: list[str] = []
    for node in state.nodes.values():
        if not node.online:
            continue
        names = sorted(n for n in node.attrs if not n.startswith(HIDDEN_ATTRIBUTE_PREFIXES))
        if not names:
            continue
        lines.append(f"  * Node: {node.name}:")
        for name in names:
            value = node.attrs[name]
            text = f"{name:<32}\t: {value:<10}"
            expected = _ping_expectation(state, node, name)
            if expected is not None:
                number = leading_int(value) or 0
                if number <= 0:
                    text += "\t: Connectivity is lost"
                elif number < expected:
                    text += f"\t: Connectivity is degraded (Expected={expected})"
            lines.append(f"    * {text}")
    return lines


def legacy_fail_counts(root: cib.Element) -> bool:
    """A CIB written before Pacemaker 1.1.17 (feature set 3.0.13) kept one fail count per resource,
    ``fail-count-RSC``; crm_mon then counts only those."""
    numbers = [leading_int(part) or 0 for part in (root.get("crm_feature_set") or "").split(".")]
    return not root.get("crm_feature_set") or numbers < [3, 0, 13]


def shown_fail_count(root: cib.Element, state: ClusterState, rsc: Resource, node: Node) -> tuple[int, int]:
    """(fail count, last failure) as crm_mon shows them: every ``fail-count-RSC#OP_INTERVAL`` of the node
    summed (an anonymous clone's by its own id, any instance number), none expired (crm_mon shows them as
    recorded; the scheduler lets them expire)."""
    clone = state.by_id.get(rsc.clone_of) if rsc.clone_of else None
    unique = clone is not None and is_unique(clone)
    name = printable_id(rsc, state)
    ops = "" if legacy_fail_counts(root) else "#.+_[0-9]+"
    instance = "" if unique else "(:[0-9]+)?"
    count_re = re.compile(f"^fail-count-{re.escape(name)}{instance}{ops}$")
    last_re = re.compile(f"^last-failure-{re.escape(name)}{instance}{ops}$")
    count, last = 0, 0
    for attr, value in node.attrs.items():
        if count_re.match(attr):
            count = min(count + parse_score(value), INF)
        elif last_re.match(attr):
            last = max(last, leading_int(value) or 0)
    return count, (last if count > 0 else 0)


def _threshold(rsc: Resource) -> int:
    return 1000000 if rsc.migration_threshold >= INF else rsc.migration_threshold


def _history_text(rsc: Resource, rid: str, count: int, last: int) -> str:
    """``RSC: migration-threshold=N fail-count=N last-failure='TIME'`` (each part only when there is one)."""
    text = f"{rid}: migration-threshold={_threshold(rsc)}"
    if count > 0:
        text += f" fail-count={count}"
    if last > 0:
        text += f" last-failure='{when(last)}'"
    return text


def _shown_ops(entry: cib.Element) -> list[cib.Element]:
    """The operations crm_mon lists for a resource: no notifications, no probe that found it stopped, oldest
    call first."""
    ops = []
    for op in entry.iterfind("lrm_rsc_op"):
        task = op.get("operation", "")
        probe = task == "monitor" and (op.get("interval") or "0") == "0"
        if task == "notify" or (probe and leading_int(op.get("rc-code")) == 7):
            continue
        ops.append(op)
    return sorted(ops, key=lambda op: leading_int(op.get("call-id")) or 0)


def _op_text(op: cib.Element, timing: bool) -> str:
    task = op.get("operation", "")
    interval = op.get("interval") or "0"
    if task == "monitor" and interval == "0":
        task = "probe"
    parts = [f' interval="{interval}ms"'] if interval != "0" else []
    if not timing:
        return f"({op.get('call-id')}) {task}" + (":" + "".join(parts) if parts else "")
    changed = leading_int(op.get("last-rc-change")) or 0
    if changed > 0:
        parts.append(f' last-rc-change="{when(changed)}"')
    for attr in ("exec-time", "queue-time"):
        if op.get(attr) is not None:
            parts.append(f' {attr}="{op.get(attr)}ms"')
    rc = leading_int(op.get("rc-code")) or 0
    return f"({op.get('call-id')}) {task}:{''.join(parts)} rc={rc} ({RC_TEXT.get(rc, 'unknown')})"


def history_lines(root: cib.Element, state: ClusterState, operations: bool, timing: bool) -> list[str]:
    """crm_mon ``-f`` (each online node's resources with fail counts) or ``-o``/``-t`` (their operation
    history, with timings for ``-t``); None when no online node has a status entry."""
    lines: list[str] = []
    by_id = {n.id: n for n in state.nodes.values()}
    for ns in root.iter("node_state"):
        node = by_id.get(ns.get("id", ""))
        if node is None or not node.online:
            continue
        node_lines: list[str] = []
        for entry in ns.iterfind("lrm/lrm_resources/lrm_resource"):
            rid = entry.get("id", "")
            rsc = _resource_for(state, rid, node)
            if rsc is None:
                continue
            count, last = shown_fail_count(root, state, rsc, node)
            if not operations:
                if count > 0:
                    node_lines.append(f"    * {_history_text(rsc, rid, count, last)}")
                continue
            ops = _shown_ops(entry)
            if ops:
                node_lines.append(f"    * {_history_text(rsc, printable_id(rsc, state), count, last)}:")
                node_lines += [f"      * {_op_text(op, timing)}" for op in ops]
        if node_lines:
            lines += [f"  * Node: {node.name}:", *node_lines]
    return lines


def has_online_status(root: cib.Element, state: ClusterState) -> bool:
    """Whether crm_mon prints the history heading at all: some online node has a status entry."""
    ids = {n.id for n in state.nodes.values() if n.online}
    return any(ns.get("id") in ids for ns in root.iter("node_state"))
