"""``paceline status``: crm_mon's layout built from the CIB alone, and the same facts as JSON or XML for tools.

The node and resource sections come from the cluster model (the same view of
the cluster the DC plans with); this module adds the
"Cluster Summary" header crm_mon prints: stack, DC and quorum, times, counts.
``facts`` gathers everything once, so the text, JSON and XML views can never
disagree; the JSON shape is documented in the gateway README.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from lxml import etree
from paceline.shared import VERSION, cib
from paceline.shared.cluster import status_sections, status_view, tickets
from paceline.shared.cluster.model import ClusterState, Resource, Role
from paceline.shared.cluster.unpack import unpack
from paceline.shared.cluster.values import is_true
from paceline.shared.lrm import EXEC_TEXT, RC_TEXT

FORMATS = ("text", "json", "xml")


def cib_property(root: cib.Element, name: str) -> str | None:
    """The value of the one nvpair called ``name`` anywhere in the CIB, as crm_mon finds ``dc-version`` and
    ``cluster-infrastructure`` (the DC writes them as cluster properties); none when there is none, or when
    several answer (crm_mon's lookup then finds nothing)."""
    found = [el for el in root.iter("nvpair") if el.get("name") == name]
    return found[0].get("value") if len(found) == 1 else None


def dc_name(root: cib.Element) -> str | None:
    """The DC's name: the node whose id is ``dc-uuid`` (none when no configured node has that id)."""
    dc_id = root.get("dc-uuid")
    if not dc_id:
        return None
    return next((n.get("uname") or dc_id for n in cib.node_elements(root) if n.get("id") == dc_id), None)


def _disabled(rsc: Resource) -> bool:
    """crm_mon counts an instance DISABLED when its target role is Stopped, or Unpromoted in a promotable
    clone (it can never be promoted)."""
    role = status_view.configured_role(rsc)
    return role == Role.STOPPED or (role == Role.UNPROMOTED and rsc.top().promotable)


def _counted(state: ClusterState) -> list[Resource]:
    """The resource instances crm_mon counts: every primitive (each clone instance on its own), a removed
    one only while it is still active."""
    return [p for p in state.primitives() if not p.orphan or p.status.active_on]


def summary_facts(root: cib.Element, now: float, state: ClusterState | None = None,
                  identity: tuple[str, str] | None = None) -> dict[str, Any]:
    """The "Cluster Summary" facts. ``identity`` is (stack, version) to show when the CIB names neither (a
    live Paceline cluster: the gateway knows what it runs); a CIB file without them shows "unknown", as
    crm_mon does."""
    state = state if state is not None else unpack(root, now)
    counted = _counted(state)
    dc = dc_name(root)
    stack = cib_property(root, "cluster-infrastructure") or (identity[0] if identity else "unknown")
    version = cib_property(root, "dc-version") or (identity[1] if identity else "unknown")
    return {
        "stack": stack,
        "dc": {"name": dc, "version": version, "quorum": is_true(root.get("have-quorum"))} if dc else None,
        "last_updated": time.strftime(cib.TIME_FORMAT, time.localtime(now)),
        "last_change": {"time": root.get("cib-last-written"), "user": root.get("update-user"),
                        "client": root.get("update-client"), "origin": root.get("update-origin")},
        "nodes_configured": len(state.nodes),
        "resources_configured": len(counted),
        "resources_disabled": sum(1 for p in counted if _disabled(p)),
        "resources_blocked": sum(1 for p in counted if p.status.blocked),
        "version": cib.version(root).__str__(),
    }


def _node_facts(state: ClusterState, dc: str | None) -> list[dict[str, Any]]:
    out = []
    for node in state.nodes.values():
        out.append({"name": node.name, "id": node.id, "online": node.online, "standby": node.standby,
                    "maintenance": node.maintenance, "unclean": node.unclean, "pending": node.pending,
                    "is_dc": node.name == dc,
                    "resources_running": sum(1 for p in state.primitives() if node.name in p.status.active_on)})
    return out


def _resource_facts(rsc: Resource) -> dict[str, Any]:
    if rsc.is_group:
        return {"id": rsc.id, "type": "group", "disabled": rsc.target_role == Role.STOPPED,
                "children": [_resource_facts(c) for c in rsc.children]}
    agent = cib.agent_text(rsc.agent.get("class", ""), rsc.agent.get("provider"), rsc.agent.get("type", ""))
    return {"id": rsc.id, "type": "primitive", "agent": agent,
            "role": (rsc.status.role.text if rsc.status.active_on else "Stopped"),
            "active_on": list(rsc.status.active_on),
            "failed": rsc.status.failed, "managed": rsc.managed, "maintenance": rsc.maintenance,
            "disabled": rsc.target_role == Role.STOPPED, "orphan": rsc.orphan}


def _failure_facts(state: ClusterState) -> list[dict[str, Any]]:
    return [{"resource": f.rsc, "operation": f.task, "interval_ms": f.interval_ms, "node": f.node, "rc": f.rc,
             "rc_text": RC_TEXT.get(f.rc, "error"), "status": EXEC_TEXT.get(f.op_status, "Error"),
             "exit_reason": f.exit_reason, "call_id": f.call_id, "last_rc_change": f.last_rc_change}
            for f in status_view.shown_failures(state)]


def facts(root: cib.Element, now: float, state: ClusterState | None = None,
          identity: tuple[str, str] | None = None) -> dict[str, Any]:
    """Everything ``paceline status`` shows at ``now``, as plain data (the ``--output-as json`` document)."""
    state = state if state is not None else unpack(root, now)
    summary = summary_facts(root, now, state, identity)
    dc = summary["dc"]["name"] if summary["dc"] else None
    return {"summary": summary, "nodes": _node_facts(state, dc), "resources": _top_facts(state),
            "failed_actions": _failure_facts(state), "config_errors": list(state.config_errors)}


def _top_facts(state: ClusterState) -> list[dict[str, Any]]:
    """Top-level resources in the scheduler's order; a clone's instances inside one clone entry, as crm_mon
    nests them."""
    out: list[dict[str, Any]] = []
    clones: dict[str, dict[str, Any]] = {}
    for rsc in state.resources:
        if rsc.orphan and not rsc.status.active_on:
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _change_text(change: dict[str, Any]) -> str:
    """crm_mon's "Last change" value: the time, then by USER, via CLIENT, on NODE, each only when known."""
    return ((change["time"] or "") + (f" by {change['user']}" if change["user"] else "")
            + (f" via {change['client']}" if change["client"] else "")
            + (f" on {change['origin']}" if change["origin"] else ""))


def summary_lines(summary: dict[str, Any]) -> list[str]:
    dc = summary["dc"]
    quorum = "partition with quorum" if dc and dc["quorum"] else "partition WITHOUT quorum"
    dc_line = f"Current DC: {dc['name']} (version {dc['version']}) - {quorum}" if dc else "Current DC: NONE"
    res_line = _plural(summary["resources_configured"], "resource instance") + " configured"
    disabled, blocked = summary["resources_disabled"], summary.get("resources_blocked", 0)
    notes = ([f"{disabled} DISABLED"] if disabled else []) + (
        [f"{blocked} BLOCKED from further action due to failure"] if blocked else [])
    if notes:
        res_line += f" ({', '.join(notes)})"
    return [
        "Cluster Summary:",
        f"  * Stack: {summary['stack']}",
        f"  * {dc_line}",
        f"  * Last updated: {summary['last_updated']}",
        f"  * Last change:  {_change_text(summary['last_change'])}",
        f"  * {_plural(summary['nodes_configured'], 'node')} configured",
        f"  * {res_line}",
    ]


#: What ``paceline status`` can show besides the summary, nodes, resources and failed actions: crm_mon's
#: switches ``-r``, ``-n``, ``-f``, ``-o``, ``-t``, ``-A``, ``-c`` (crmsh's ``status`` sub-options map to them).
SHOW = ("inactive", "bynode", "failcounts", "operations", "timing", "attributes", "tickets")
#: ``crm status`` without sub-options: ``crm_mon -1 -r``.
DEFAULT_SHOW = ("inactive",)


def render(root: cib.Element, now: float, show: Iterable[str] = DEFAULT_SHOW,
           identity: tuple[str, str] | None = None, state: ClusterState | None = None) -> str:
    """crm_mon's page at ``now``: ``crm_mon -1`` with the switches named in ``show`` (default ``-r``, as
    ``crm status``). Configuration errors are not on it (crm_mon logs them apart): see ``page_and_notes``."""
    show = frozenset(show)
    unknown = show - set(SHOW)
    if unknown:
        raise ValueError(f"unknown status section {sorted(unknown)[0]!r}; one of {', '.join(SHOW)}")
    state = state if state is not None else unpack(root, now)
    inactive, by_node = "inactive" in show, "bynode" in show
    sections = [summary_lines(summary_facts(root, now, state, identity))]
    if "tickets" in show:   # crm_mon unpacks the constraints for them (after counting), so lost tickets act
        tickets.apply_constraints(state)
    if by_node:
        nodes = status_sections.by_node_lines(root, state)
    else:
        nodes = status_view.node_lines(state, unseen_unclean=True)
    if nodes:
        sections.append(["Node List:", *nodes])
    if not by_node or inactive:
        sections.append(_resource_section(state, inactive, by_node))
    if "attributes" in show and (attrs := status_sections.attribute_lines(state)):
        sections.append(["Node Attributes:", *attrs])
    operations = "operations" in show or "timing" in show
    if (operations or "failcounts" in show) and status_sections.has_online_status(root, state):
        history = status_sections.history_lines(root, state, operations, "timing" in show)
        sections.append(["Operations:" if operations else "Migration Summary:", *history])
    if failures := status_view.failed_lines(state):
        sections.append(["Failed Resource Actions:", *[line[2:] for line in failures]])
    if "tickets" in show and state.tickets:
        sections.append(["Tickets:", *(f"  * {tickets.status_line(t)}" for t in tickets.listed(state.tickets))])
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def _resource_section(state: ClusterState, inactive: bool, by_node: bool) -> list[str]:
    """Resources under crm_mon's heading for the mode: all of them (``-r``), the active ones, or with ``-n``
    (the active ones being under their nodes) the inactive ones."""
    if by_node:
        lines = status_view.resource_lines(state, inactive=True, only_inactive=True)
        return ["Inactive Resources:", *(lines or ["  * No inactive resources"])]
    heading = "Full List of Resources:" if inactive else "Active Resources:"
    return [heading, *status_view.resource_lines(state, inactive)]


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
    etree.SubElement(summary, "last_change", {k: change[k] or "" for k in ("time", "user", "client", "origin")})
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


def page_and_notes(root: cib.Element, fmt: str, now: float, show: Iterable[str] = DEFAULT_SHOW,
                   identity: tuple[str, str] | None = None) -> tuple[str, list[str]]:
    """The status page in one of ``FORMATS`` (``show``: the text page's sections, see ``render``), and for
    the text page the configuration errors to tell apart (JSON and XML carry them in the document)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; one of {', '.join(FORMATS)}")
    state = unpack(root, now)
    if fmt == "text":
        return render(root, now, frozenset(show), identity, state), list(state.config_errors)
    data = facts(root, now, state, identity)
    return (json.dumps(data, indent=2) + "\n" if fmt == "json" else render_xml(data)), []


def render_as(root: cib.Element, fmt: str, now: float, show: Iterable[str] = DEFAULT_SHOW,
              identity: tuple[str, str] | None = None) -> str:
    """The status page in one of ``FORMATS``, without the configuration errors of ``page_and_notes``."""
    return page_and_notes(root, fmt, now, show, identity)[0]
