"""``paceline status``: crm_mon's layout built from the CIB alone, and the same facts as JSON or XML for tools.

The node and resource sections come from the cluster model (the same view of
the cluster the DC plans with); this module adds the
"Cluster Summary" header crm_mon prints: stack, DC and quorum, times, counts.
``facts`` gathers everything once, so the text, JSON and XML views can never
disagree; the JSON shape is documented in the gateway README.
"""

from __future__ import annotations

import json
import re
import textwrap
import time
from typing import Any

from lxml import etree
from paceline.shared import VERSION, cib
from paceline.shared.cluster.model import ClusterState, Resource, Role
from paceline.shared.cluster.options import resource_meta
from paceline.shared.cluster.status_view import render_status
from paceline.shared.cluster.unpack import cib_now, unpack
from paceline.shared.cluster.values import is_true
from paceline.shared.lrm import EXEC_TEXT, RC_TEXT

SECTION = re.compile(r"^\* (\S.*:)$")
FORMATS = ("text", "json", "xml")


def _dc_name(root: cib.Element) -> str | None:
    dc_id = root.get("dc-uuid")
    if not dc_id:
        return None
    return next((n.get("uname") for n in cib.node_elements(root) if n.get("id") == dc_id), None) or dc_id


def _disabled(prim: cib.Element, now: float) -> bool:
    el: cib.Element | None = prim
    while el is not None and el.tag in cib.RESOURCE_TAGS:
        if resource_meta(el, now).get("target-role", "").lower() == "stopped":
            return True
        el = el.getparent()
    return False


def summary_facts(root: cib.Element, now: float) -> dict[str, Any]:
    prims = list(cib.primitives(root))
    dc = _dc_name(root)
    return {
        "stack": "paceline (NATS)",
        "dc": {"name": dc, "version": VERSION, "quorum": is_true(root.get("have-quorum"))} if dc else None,
        "last_updated": time.strftime(cib.TIME_FORMAT, time.localtime(now)),
        "last_change": {"time": root.get("cib-last-written") or time.strftime(cib.TIME_FORMAT, time.localtime(now)),
                        "user": root.get("update-user", "root"), "client": root.get("update-client", "cibadmin"),
                        "origin": root.get("update-origin") or None},
        "nodes_configured": len(cib.node_elements(root)),
        "resources_configured": len(prims),
        "resources_disabled": sum(1 for p in prims if _disabled(p, now)),
        "version": cib.version(root).__str__(),
    }


def _node_facts(state: ClusterState, dc: str | None) -> list[dict[str, Any]]:
    out = []
    for node in state.nodes.values():
        out.append({"name": node.name, "id": node.id, "online": node.online, "standby": node.standby,
                    "maintenance": node.maintenance, "unclean": node.unclean, "pending": node.pending,
                    "is_dc": node.name == dc,
                    "resources_running": sum(1 for p in state.primitives() if node.name in p.active_on)})
    return out


def _resource_facts(rsc: Resource) -> dict[str, Any]:
    if rsc.is_group:
        return {"id": rsc.id, "type": "group", "disabled": rsc.target_role == Role.STOPPED,
                "children": [_resource_facts(c) for c in rsc.children]}
    agent = cib.agent_text(rsc.agent.get("class", ""), rsc.agent.get("provider"), rsc.agent.get("type", ""))
    return {"id": rsc.id, "type": "primitive", "agent": agent,
            "role": (rsc.role.text if rsc.active_on else "Stopped"), "active_on": list(rsc.active_on),
            "failed": rsc.failed, "managed": rsc.managed, "maintenance": rsc.maintenance,
            "disabled": rsc.target_role == Role.STOPPED, "orphan": rsc.orphan}


def _failure_facts(state: ClusterState) -> list[dict[str, Any]]:
    return [{"resource": f.rsc, "operation": f.task, "interval_ms": f.interval_ms, "node": f.node, "rc": f.rc,
             "rc_text": RC_TEXT.get(f.rc, "error"), "status": EXEC_TEXT.get(f.op_status, "Error"),
             "exit_reason": f.exit_reason, "call_id": f.call_id, "last_rc_change": f.last_rc_change}
            for f in state.failed_ops]


def facts(root: cib.Element, now: float, state: ClusterState | None = None) -> dict[str, Any]:
    """Everything ``paceline status`` shows at ``now``, as plain data (the ``--output-as json`` document)."""
    state = state if state is not None else unpack(root, *cib_now(root, now))
    summary = summary_facts(root, now)
    dc = summary["dc"]["name"] if summary["dc"] else None
    return {"summary": summary, "nodes": _node_facts(state, dc), "resources": _top_facts(state),
            "failed_actions": _failure_facts(state), "config_errors": list(state.config_errors)}


def _top_facts(state: ClusterState) -> list[dict[str, Any]]:
    """Top-level resources in the scheduler's order; a clone's instances inside one clone entry, as crm_mon
    nests them."""
    out: list[dict[str, Any]] = []
    clones: dict[str, dict[str, Any]] = {}
    for rsc in state.resources:
        if rsc.orphan and not rsc.active_on:
            continue
        if rsc.clone_of is None:
            out.append(_resource_facts(rsc))
            continue
        entry = clones.get(rsc.clone_of)
        if entry is None:
            clone = state.by_id[rsc.clone_of]
            entry = clones[rsc.clone_of] = {"id": clone.id, "type": "clone", "promotable": clone.promotable,
                                            "disabled": rsc.target_role == Role.STOPPED, "children": []}
            out.append(entry)
        entry["children"].append(_resource_facts(rsc))
    return out


def summary_lines(summary: dict[str, Any]) -> list[str]:
    dc = summary["dc"]
    quorum = "partition with quorum" if dc and dc["quorum"] else "partition WITHOUT quorum"
    dc_line = f"Current DC: {dc['name']} (version {dc['version']}) - {quorum}" if dc else "Current DC: NONE"
    change = summary["last_change"]
    res_line = f"{summary['resources_configured']} resource instances configured"
    if summary["resources_disabled"]:
        res_line += f" ({summary['resources_disabled']} DISABLED)"
    return [
        "Cluster Summary:",
        f"  * Stack: {summary['stack']}",
        f"  * {dc_line}",
        f"  * Last updated: {summary['last_updated']}",
        f"  * Last change:  {change['time']} by {change['user']} via {change['client']}"
        + (f" on {change['origin']}" if change["origin"] else ""),
        f"  * {summary['nodes_configured']} nodes configured",
        f"  * {res_line}",
    ]


def render(root: cib.Element, now: float) -> str:
    """crm_mon's page at ``now``: the lists of crm_simulate's status lose one level of nesting."""
    state = unpack(root, *cib_now(root, now))
    summary = summary_facts(root, now)
    body = [SECTION.sub(r"\1", line) for line in textwrap.dedent("\n".join(render_status(state))).splitlines()]
    return "\n".join(summary_lines(summary)) + "\n\n" + "\n".join(body).rstrip("\n") + "\n"


def _xml_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _xml_resource(parent: etree._Element, rsc: dict[str, Any]) -> None:
    if rsc["type"] == "clone":
        el = etree.SubElement(parent, "clone", id=rsc["id"], multi_state=_xml_value(rsc["promotable"]),
                              unique="false", disabled=_xml_value(rsc["disabled"]))
        for child in rsc["children"]:
            _xml_resource(el, child)
        return
    if rsc["type"] == "group":
        el = etree.SubElement(parent, "group", id=rsc["id"], number_resources=str(len(rsc["children"])),
                              disabled=_xml_value(rsc["disabled"]))
        for child in rsc["children"]:
            _xml_resource(el, child)
        return
    el = etree.SubElement(parent, "resource", id=rsc["id"], resource_agent=rsc["agent"], role=rsc["role"],
                          active=_xml_value(bool(rsc["active_on"])), failed=_xml_value(rsc["failed"]),
                          managed=_xml_value(rsc["managed"]), maintenance=_xml_value(rsc["maintenance"]),
                          disabled=_xml_value(rsc["disabled"]), nodes_running_on=str(len(rsc["active_on"])))
    for node in rsc["active_on"]:
        etree.SubElement(el, "node", name=node)


def render_xml(data: dict[str, Any]) -> str:
    """crm_mon's ``--output-as xml`` element names (summary, nodes, resources, failures) over ``facts``."""
    top = etree.Element("paceline-status", version=VERSION)
    summary = etree.SubElement(top, "summary")
    s = data["summary"]
    etree.SubElement(summary, "stack", type=s["stack"])
    dc = s["dc"]
    etree.SubElement(summary, "current_dc", present=_xml_value(dc is not None),
                     **({"name": dc["name"], "version": dc["version"], "with_quorum": _xml_value(dc["quorum"])}
                        if dc else {}))
    etree.SubElement(summary, "last_update", time=s["last_updated"])
    change = s["last_change"]
    etree.SubElement(summary, "last_change", time=change["time"], user=change["user"], client=change["client"],
                     origin=change["origin"] or "")
    etree.SubElement(summary, "nodes_configured", number=str(s["nodes_configured"]))
    etree.SubElement(summary, "resources_configured", number=str(s["resources_configured"]),
                     disabled=str(s["resources_disabled"]))
    nodes = etree.SubElement(top, "nodes")
    for n in data["nodes"]:
        etree.SubElement(nodes, "node", {k: _xml_value(v) for k, v in n.items()})
    resources = etree.SubElement(top, "resources")
    for rsc in data["resources"]:
        _xml_resource(resources, rsc)
    failures = etree.SubElement(top, "failures")
    for f in data["failed_actions"]:
        etree.SubElement(failures, "failure", {k: _xml_value(v) for k, v in f.items()})
    errors = etree.SubElement(top, "config_errors")
    for text in data.get("config_errors", ()):
        etree.SubElement(errors, "config_error", description=text)
    return etree.tostring(top, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode()


def render_as(root: cib.Element, fmt: str, now: float) -> str:
    """The status page in one of ``FORMATS``."""
    if fmt == "text":
        return render(root, now)
    data = facts(root, now)
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if fmt == "xml":
        return render_xml(data)
    raise ValueError(f"unknown output format {fmt!r}; one of {', '.join(FORMATS)}")
