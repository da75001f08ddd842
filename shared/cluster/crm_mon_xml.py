"""crm_mon's XML (``crm_mon --output-as xml``), as Pacemaker's API schema describes it, from the cluster model.

Tools written for Pacemaker read this document, not the text page: the
ClusterLabs ``ha_cluster_exporter`` (nodes, resources, fail counts, migration
thresholds, node attributes), crmsh (``crm_mon`` XML for resource states),
pcs and site scripts. So the elements, attributes and value spellings are
those of ``/usr/share/pacemaker/api/crm_mon-2.25.rng`` and the files it
includes, wrapped in ``<pacemaker-result api-version="2.25">`` with a
``<status>`` as ``api-result.rng`` says. Facts come from
:func:`paceline.shared.cluster.unpack.unpack` (the same view the DC plans
with) and the summary from :mod:`paceline.shared.cluster.crm_mon` (the text
page's header), so the XML and ``paceline status`` cannot disagree.

As crm_mon does for XML, inactive resources are always listed (``-r`` changes
only the text page) and every section is present: summary, nodes, resources,
node attributes, node history, failures, bans. What Paceline has no
equivalent of is left out (fencing history: the schema makes it optional) or
given Pacemaker's value for a cluster without it (node health ``green``).
Pure: the time is passed in; no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from lxml import etree
from paceline.shared import cib
from paceline.shared.cluster import remote, tickets
from paceline.shared.cluster.crm_mon import summary_facts
from paceline.shared.cluster.history import effective_fail_count, fail_count
from paceline.shared.cluster.model import ClusterState, Location, Node, Resource, Role
from paceline.shared.cluster.scores import INF
from paceline.shared.cluster.status_view import is_unique, native_active, printable_id
from paceline.shared.cluster.timespec import parse_op_ms
from paceline.shared.cluster.unpack import cib_now, unpack
from paceline.shared.cluster.values import is_true, leading_int
from paceline.shared.lrm import EXEC_TEXT, RC_TEXT

#: The API version of the schema this document follows (Pacemaker 2.1.5's crm_mon).
API_VERSION = "2.25"
#: The gateway's ``status`` format for this document (``crm_mon -X`` asks for it, as the observer may).
FORMAT = "crm_mon-xml"
#: The stack a live Paceline cluster names where the CIB names none.
STACK = "paceline (NATS)"

#: Node attributes crm_mon does not list: its own bookkeeping, and what other sections show.
HIDDEN_ATTRIBUTE_PREFIXES = ("#", "fail-count-", "last-failure-")
HIDDEN_ATTRIBUTES = ("shutdown", "terminate", "standby")


def _b(value: bool) -> str:
    return "true" if value else "false"


def _when(epoch: int | float) -> str:
    """An epoch as crm_mon prints times (local time, ``Sun Dec  6 20:56:26 2026``)."""
    return time.strftime(cib.TIME_FORMAT, time.localtime(epoch))


def _iso_utc(epoch: int | float) -> str:
    """An epoch as crm_mon writes a failure's time (ISO 8601 in UTC: ``2018-08-09 18:55:40Z``)."""
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(epoch))


def _score_text(value: int) -> str:
    return "INFINITY" if value >= INF else "-INFINITY" if value <= -INF else str(value)


# ------------------------------------------------------------------ summary

def _cluster_options(state: ClusterState) -> dict[str, str]:
    options = state.options
    return {
        "stonith-enabled": _b(is_true(options.get("stonith-enabled"), True)),
        "symmetric-cluster": _b(state.symmetric),
        "no-quorum-policy": state.no_quorum_policy,
        "maintenance-mode": _b(state.maintenance_mode),
        "stop-all-resources": _b(state.stop_all),
        "stonith-timeout-ms": str(parse_op_ms(options.get("stonith-timeout") or "60s") or 60000),
        "priority-fencing-delay-ms": str(parse_op_ms(options.get("priority-fencing-delay") or "0") or 0),
    }


def _summary(top: etree._Element, root: cib.Element, state: ClusterState, now: float,
             identity: tuple[str, str] | None) -> None:
    facts = summary_facts(root, now, state, identity)
    summary = etree.SubElement(top, "summary")
    etree.SubElement(summary, "stack", type=facts["stack"])
    dc = facts["dc"]
    dc_el = etree.SubElement(summary, "current_dc", present=_b(dc is not None))
    if dc is not None:
        dc_el.set("version", dc["version"])
        dc_el.set("name", dc["name"])
        dc_el.set("id", root.get("dc-uuid") or "")
        dc_el.set("with_quorum", _b(dc["quorum"]))
        dc_el.set("mixed_version", "false")
    etree.SubElement(summary, "last_update", time=facts["last_updated"])
    # crm_mon leaves what the CIB does not say empty, where the text page names a default
    etree.SubElement(summary, "last_change", time=root.get("cib-last-written") or "",
                     user=root.get("update-user") or "", client=root.get("update-client") or "",
                     origin=root.get("update-origin") or "")
    etree.SubElement(summary, "nodes_configured", number=str(facts["nodes_configured"]))
    etree.SubElement(summary, "resources_configured", number=str(facts["resources_configured"]),
                     disabled=str(facts["resources_disabled"]), blocked=str(facts["resources_blocked"]))
    etree.SubElement(summary, "cluster_options", _cluster_options(state))


# ------------------------------------------------------------------ nodes

def _running_count(state: ClusterState, node: Node) -> int:
    return sum(1 for p in state.primitives() if node.name in p.status.active_on)


def _nodes(top: etree._Element, state: ClusterState) -> None:
    nodes = etree.SubElement(top, "nodes")
    dc = next((n.name for n in state.nodes.values() if n.id == state.dc_uuid), None)
    for node in state.nodes.values():
        etree.SubElement(nodes, "node", {
            "name": node.name, "id": node.id, "online": _b(node.online), "standby": _b(node.standby),
            "standby_onfail": "false", "maintenance": _b(node.maintenance), "pending": _b(node.pending),
            "unclean": _b(node.unclean), "health": "green", "shutdown": _b(node.shutdown),
            "expected_up": _b(node.expected_up), "is_dc": _b(node.name == dc),
            "resources_running": str(_running_count(state, node)),
            "type": "member" if node.kind == "cluster" else "remote", **_guest_of(state, node)})


def _guest_of(state: ClusterState, node: Node) -> dict[str, str]:
    """A guest node names the resource it runs in (``id_as_resource``), as crm_mon's XML does."""
    container = remote.guest_container(state, node) if node.kind == remote.GUEST else None
    return {"id_as_resource": container.id} if container is not None else {}


# ------------------------------------------------------------------ resources

#: A pending action crm_mon shows as the role (what the resource is becoming) ...
PENDING_ROLES = {"start": "Starting", "stop": "Stopping", "migrate_to": "Migrating", "migrate_from": "Migrating",
                 "promote": "Promoting", "demote": "Demoting"}
#: ... and one it shows beside the role.
PENDING_TASKS = {"monitor": "Monitoring", "notify": "Notifying"}


def _primitive(parent: etree._Element, state: ClusterState, rsc: Resource, unique: bool) -> None:
    agent = cib.agent_text(rsc.agent.get("class", ""), rsc.agent.get("provider"), rsc.agent.get("type", ""))
    pending = next(iter(rsc.status.pending_task.values()), "")
    role = PENDING_ROLES.get(pending) or (rsc.status.role.text if rsc.status.active_on else "Stopped")
    attrs = {"id": printable_id(rsc, state), "resource_agent": agent, "role": role}
    if rsc.meta.get("target-role"):
        attrs["target_role"] = rsc.meta["target-role"]
    attrs.update({"active": _b(native_active(state, rsc)), "orphaned": _b(rsc.orphan),
                  "blocked": _b(rsc.status.blocked),
                  "managed": _b(rsc.managed), "failed": _b(rsc.status.failed),
                  "failure_ignored": _b(rsc.status.ignore_failure), "nodes_running_on": str(len(rsc.status.active_on))})
    if pending and pending not in PENDING_ROLES:
        attrs["pending"] = PENDING_TASKS.get(pending, pending)
    if rsc.status.lock_node:
        attrs["locked_to"] = rsc.status.lock_node
    el = etree.SubElement(parent, "resource", attrs)
    for name in rsc.status.active_on:      # "cached": as last reported by a node that is online (not a lost node's)
        node = state.nodes.get(name)
        etree.SubElement(el, "node", name=name, id=node.id if node is not None else name,
                         cached=_b(node is not None and node.online))


def _group(parent: etree._Element, state: ClusterState, rsc: Resource, unique: bool) -> None:
    el = etree.SubElement(parent, "group", id=rsc.id, number_resources=str(len(rsc.children)),
                          managed=_b(rsc.managed), disabled=_b(rsc.target_role == Role.STOPPED))
    for child in rsc.children:
        _primitive(el, state, child, unique)


def _instances(clone: Resource, unique: bool, status_order: dict[str, int]) -> list[Resource]:
    """An anonymous clone's instances in Pacemaker's numbering: it gives instance numbers as it reads the
    status, node by node, so active instances come in the order of their node's ``node_state``, then the
    inactive ones. A unique clone's instances keep their own numbers."""
    if unique:
        return list(clone.children)

    def key(instance: Resource) -> int:
        where = [status_order.get(n, len(status_order)) for p in instance.primitives() for n in p.status.active_on]
        return min(where) if where else len(status_order) + 1

    return sorted(clone.children, key=key)


def _clone(parent: etree._Element, state: ClusterState, clone: Resource, status_order: dict[str, int]) -> None:
    unique = is_unique(clone)
    attrs = {"id": clone.id, "multi_state": _b(clone.promotable), "unique": _b(unique),
             "managed": _b(clone.managed), "disabled": _b(clone.target_role == Role.STOPPED),
             "failed": _b(any(p.status.failed for p in clone.primitives())),
             "failure_ignored": _b(clone.status.ignore_failure)}
    if clone.meta.get("target-role"):
        attrs["target_role"] = clone.meta["target-role"]
    el = etree.SubElement(parent, "clone", attrs)
    for instance in _instances(clone, unique, status_order):
        if instance.is_group:
            _group(el, state, instance, unique)
        else:
            _primitive(el, state, instance, unique)


def _bundle(parent: etree._Element, state: ClusterState, bundle: Resource) -> None:
    """A bundle as crm_mon's XML shows it (``pe__bundle_xml``): its engine, image and flags, then per replica
    its address, bundled instance, container and connection, each as a ``<resource>``."""
    data = bundle.bundle
    if data is None:
        return
    el = etree.SubElement(parent, "bundle", id=bundle.id, type=data.engine, image=data.image,
                          unique=_b(data.unique), managed=_b(bundle.managed),
                          failed=_b(bundle.status.failed))   # its own flag, never its parts'
    for replica in data.replicas:
        replica_el = etree.SubElement(el, "replica", id=str(replica.offset))
        for part in replica.parts():
            _primitive(replica_el, state, part, data.unique)


def _top_level(state: ClusterState) -> list[Resource]:
    """The configuration's top-level resources in crm_mon's order - by priority, then CIB order, as the
    scheduler keeps them - each clone once as a whole."""
    out: dict[str, Resource] = {}
    for rsc in state.resources:
        top = state.by_id.get(rsc.clone_of, rsc) if rsc.clone_of is not None else rsc
        if rsc.orphan and not rsc.status.active_on:
            continue
        out.setdefault(top.id, top)
    return list(out.values())


def _resources(top: etree._Element, root: cib.Element, state: ClusterState) -> None:
    resources = etree.SubElement(top, "resources")
    status_order = {ns.get("uname") or "": i for i, ns in enumerate(_node_states(root))}
    for rsc in _top_level(state):
        if rsc.is_clone:
            _clone(resources, state, rsc, status_order)
        elif rsc.is_group:
            _group(resources, state, rsc, False)
        elif rsc.is_bundle:
            _bundle(resources, state, rsc)
        else:
            _primitive(resources, state, rsc, False)


# ------------------------------------------------------------------ node attributes

def _shown_attribute(name: str) -> bool:
    return not name.startswith(HIDDEN_ATTRIBUTE_PREFIXES) and name not in HIDDEN_ATTRIBUTES


def _node_attributes(top: etree._Element, state: ClusterState) -> None:
    section = etree.SubElement(top, "node_attributes")
    for node in state.nodes.values():
        if not node.online:
            continue
        shown = sorted(n for n in node.attrs if _shown_attribute(n))
        if shown:
            el = etree.SubElement(section, "node", name=node.name)
            for name in shown:
                etree.SubElement(el, "attribute", name=name, value=node.attrs[name])


# ------------------------------------------------------------------ node history

def _number(text: str | None) -> int:
    """An integer attribute of a history entry as Pacemaker reads it (leading digits; none: 0)."""
    return leading_int(text, 0) or 0


def _history_ops(lr: cib.Element) -> list[cib.Element]:
    """A resource's operations as crm_mon lists them: notifications and probes that found it not running
    left out, the rest by call id."""
    ops = []
    for op in lr.iterfind("lrm_rsc_op"):
        task, interval = op.get("operation"), op.get("interval") or "0"
        if task == "notify" or (task == "monitor" and interval == "0" and op.get("rc-code") == "7"):
            continue
        ops.append(op)
    def call(op: cib.Element) -> tuple[bool, int]:   # pending ones (call id -1) last
        number = _number(op.get("call-id"))
        return number < 0, number

    return sorted(ops, key=call)


def _operation(parent: etree._Element, op: cib.Element) -> None:
    task, interval = op.get("operation") or "", op.get("interval") or "0"
    rc = _number(op.get("rc-code"))
    attrs = {"call": op.get("call-id") or "", "task": "probe" if task == "monitor" and interval == "0" else task}
    if interval != "0":
        attrs["interval"] = f"{interval}ms"
    if _number(op.get("last-rc-change")) > 0:
        attrs["last-rc-change"] = _when(_number(op.get("last-rc-change")))
    for name in ("exec-time", "queue-time"):
        if op.get(name) is not None:
            attrs[name] = f"{op.get(name)}ms"
    attrs.update({"rc": str(rc), "rc_text": RC_TEXT.get(rc, "unknown")})
    etree.SubElement(parent, "operation_history", attrs)


def _resource_history(parent: etree._Element, state: ClusterState, node: Node, lr: cib.Element) -> None:
    rid = lr.get("id") or ""
    ops = _history_ops(lr)
    if not ops:
        return
    rsc = _model_resource(state, rid)
    shown = printable_id(rsc, state) if rsc is not None else rid
    # "orphan": crm_mon found no resource by that id - never for an orphan the status names, as Pacemaker
    # makes one for each (pe_find_resource finds it)
    attrs = {"id": shown, "orphan": _b(rsc is None)}
    if rsc is not None:
        attrs["migration-threshold"] = str(rsc.migration_threshold)
        count = effective_fail_count(state, rsc, node)
        last = fail_count(state, rsc, node)[1]
        if count > 0:
            attrs["fail-count"] = _score_text(count)
            if last > 0:
                attrs["last-failure"] = _when(last)
    el = etree.SubElement(parent, "resource_history", attrs)
    for op in ops:
        _operation(el, op)


def _model_resource(state: ClusterState, history_id: str) -> Resource | None:
    """The resource a status entry records: itself, or the first instance of the clone it belongs to."""
    rsc = state.by_id.get(history_id)
    if rsc is not None and not rsc.is_clone and not rsc.is_group:
        return rsc
    instances = state.clones.get(history_id)
    return instances[0] if instances else None


def _node_history(top: etree._Element, root: cib.Element, state: ClusterState) -> None:
    section = etree.SubElement(top, "node_history")
    by_id = {n.id: n for n in state.nodes.values()}
    for ns in _node_states(root):
        node = by_id.get(ns.get("id") or "") or state.nodes.get(ns.get("uname") or "")
        if node is None or not node.online:
            continue
        el = etree.Element("node", name=node.name)
        for lr in ns.iterfind("lrm/lrm_resources/lrm_resource"):
            _resource_history(el, state, node, lr)
        if len(el):
            section.append(el)


def _node_states(root: cib.Element) -> Iterable[cib.Element]:
    status = root.find("status")
    return () if status is None else status.iterfind("node_state")


# ------------------------------------------------------------------ failures and bans

def _failure_records(root: cib.Element) -> dict[tuple[str, str, str], cib.Element]:
    """Each recorded operation by (node, resource as recorded, call id): a failure's element in the CIB."""
    index: dict[tuple[str, str, str], cib.Element] = {}
    for ns in _node_states(root):
        uname = ns.get("uname") or ""
        for lr in ns.iterfind("lrm/lrm_resources/lrm_resource"):
            for op in lr.iterfind("lrm_rsc_op"):
                index[(uname, lr.get("id") or "", op.get("call-id") or "")] = op
    return index


def _failures(top: etree._Element, root: cib.Element, state: ClusterState) -> None:
    section = etree.SubElement(top, "failures")
    records = _failure_records(root)
    for f in state.failed_ops:
        rsc = state.by_id.get(f.rsc)
        history_id = rsc.history_id if rsc is not None else f.rsc
        op = records.get((f.node, history_id, str(f.call_id)))
        attrs: dict[str, Any] = {}
        if op is not None and op.get("operation_key"):
            attrs["op_key"] = op.get("operation_key")
        else:
            attrs["id"] = op.get("id") if op is not None else f"{history_id}_{f.task}_{f.interval_ms}"
        # an exit reason the record gives is shown as it is (empty too); "none" only when it gives none
        reason = op.get("exit-reason") if op is not None else None
        attrs.update({"node": f.node, "exitstatus": RC_TEXT.get(f.rc, "unknown"),
                      "exitreason": reason if reason is not None else (f.exit_reason or "none"),
                      "exitcode": str(f.rc), "call": str(f.call_id), "status": EXEC_TEXT.get(f.op_status, "Error")})
        if f.last_rc_change:
            attrs.update({"last-rc-change": _iso_utc(f.last_rc_change), "queued": str(f.queue_ms),
                          "exec": str(f.exec_ms), "interval": str(f.interval_ms), "task": f.task})
        etree.SubElement(section, "failure", attrs)


def _tickets(top: etree._Element, state: ClusterState) -> None:
    """``<tickets>``: every ticket the status section or a constraint names, in crm_mon's order."""
    section = etree.SubElement(top, "tickets")
    for ticket in tickets.listed(state.tickets):
        attrs = {"id": ticket.id, "status": "granted" if ticket.granted else "revoked", "standby": _b(ticket.standby)}
        if ticket.last_granted is not None:
            attrs["last-granted"] = _when(ticket.last_granted)
        etree.SubElement(section, "ticket", attrs)


def _bans(top: etree._Element, state: ClusterState) -> None:
    """``<bans>`` in the order Pacemaker keeps its location constraints - the last unpacked first, as it
    prepends each - and one per constraint on a clone, named by the clone (the model gives each instance
    its own copy)."""
    section = etree.SubElement(top, "bans")
    constrained: dict[tuple[str, str], tuple[Location, Resource]] = {}
    for loc in state.locations:
        rsc = state.by_id.get(loc.rsc.clone_of, loc.rsc) if loc.rsc.clone_of is not None else loc.rsc
        constrained.setdefault((loc.id, rsc.id), (loc, rsc))
    for loc, rsc in reversed(constrained.values()):
        promoted = loc.role == Role.PROMOTED
        for node, score in loc.node_scores:
            if score >= 0:
                continue
            etree.SubElement(section, "ban", {"id": loc.id, "resource": rsc.id, "node": node,
                                              "weight": str(max(score, -INF)), "promoted-only": _b(promoted),
                                              "master_only": _b(promoted)})


# ------------------------------------------------------------------ the document

def document(root: cib.Element, now: float, request: str = "crm_mon --output-as xml",
             state: ClusterState | None = None, identity: tuple[str, str] | None = None) -> etree._Element:
    """crm_mon's ``<pacemaker-result>`` for the CIB ``root`` at ``now`` (``request``: the command line shown;
    ``identity``: the stack and version a live cluster runs, where the CIB names neither)."""
    state = state if state is not None else unpack(root, *cib_now(root, now))
    top = etree.Element("pacemaker-result", {"api-version": API_VERSION, "request": request})
    _summary(top, root, state, now, identity)
    tickets.apply_constraints(state)    # crm_mon unpacks the constraints (bans, tickets) after counting
    _nodes(top, state)
    _resources(top, root, state)
    _node_attributes(top, state)
    _node_history(top, root, state)
    _failures(top, root, state)
    _tickets(top, state)
    _bans(top, state)
    etree.SubElement(top, "status", code="0", message="OK")
    return top


def render(root: cib.Element, now: float, request: str = "crm_mon --output-as xml",
           state: ClusterState | None = None, identity: tuple[str, str] | None = None) -> str:
    """The document as crm_mon prints it: indented, no XML declaration."""
    return etree.tostring(document(root, now, request, state, identity), pretty_print=True, encoding="unicode")


def error_document(request: str, code: int, message: str, errors: Iterable[str] = ()) -> str:
    """A ``<pacemaker-result>`` that carries only a failure, as crm_mon prints one for a CIB it cannot read."""
    top = etree.Element("pacemaker-result", {"api-version": API_VERSION, "request": request})
    status = etree.SubElement(top, "status", code=str(code), message=message)
    lines = list(errors)
    if lines:
        errs = etree.SubElement(status, "errors")
        for line in lines:
            etree.SubElement(errs, "error").text = line
    return etree.tostring(top, pretty_print=True, encoding="unicode")

