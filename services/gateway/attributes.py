"""The gateway's ``attribute`` and ``nodes`` endpoints: what Pacemaker's tools ask of a cluster, typed.

Agents run ``crm_attribute``, ``crm_master``, ``attrd_updater`` and
``crm_node`` (``paceline.cli.pcmk_tools``); these endpoints answer them without
crm command lines going back and forth and printed output being scraped. An
edit is the crm command's own (``node attribute|utilization|status-attr NODE
set|delete``, ``configure property|rsc_defaults|op_defaults``), run on the
gateway's copy of the CIB, so the ids and sets it creates and its errors are
exactly the crm language's. Reading is plain: the value in the set the crm
command would show, or the first matching option in document order.
"""

from __future__ import annotations

import shlex

from paceline.crm import Context, CrmError, execute
from paceline.shared import cib
from paceline.shared.cluster import crm_mon
from paceline.shared.messages import AttributeRequest, NodeInfo, NodesReply

#: Attribute scope -> the crm ``configure`` command that sets options there.
OPTION_COMMANDS = {"crm_config": "property", "rsc_defaults": "rsc_defaults", "op_defaults": "op_defaults"}
#: Attribute scope -> where Pacemaker's schema keeps those options: the section and its set element.
OPTION_SETS = {"crm_config": ("crm_config", "cluster_property_set"),
               "rsc_defaults": ("rsc_defaults", "meta_attributes"), "op_defaults": ("op_defaults", "meta_attributes")}


def node_command(req: AttributeRequest) -> str:
    """The crm ``node`` command for a node attribute: transient, utilization or permanent."""
    return "status-attr" if req.scope == "status" else "utilization" if req.utilization else "attribute"


def crm(root: cib.Element, *words: str) -> bool:
    """Run one crm command on ``root`` in place (the crm language's own edit); whether it changed anything."""
    return execute(root, shlex.join(words), Context()).changed


def read(root: cib.Element, req: AttributeRequest) -> str | None:
    """The attribute's value, None when it is not set; CrmError for an unknown node (crm's own message)."""
    if req.scope in OPTION_COMMANDS:
        return _read_option(root, req)
    node = _node(root, req)
    if req.scope == "status":
        ns = cib.node_state(root, node.get("uname") or node.get("id") or "", create=False)
        holder = ns.find("transient_attributes") if ns is not None else None
        return cib.nvset_values(holder, "instance_attributes").get(req.name)
    return cib.nvset_values(node, "utilization" if req.utilization else "instance_attributes").get(req.name)


def _node(root: cib.Element, req: AttributeRequest) -> cib.Element:
    """The node named (by name, else by id) as the crm ``node`` commands find it."""
    node = cib.node_by_uname(root, req.node)
    if node is None:
        node = next((n for n in cib.node_elements(root) if n.get("id") == req.node), None)
    if node is None:  # let the crm command say it, in its words
        crm(root, "node", node_command(req), req.node, "show", req.name)
        raise CrmError(f"node {node_command(req)}: no node {req.node!r}")
    return node


def _option_sets(root: cib.Element, req: AttributeRequest) -> list[cib.Element]:
    """The option sets a request may mean: every set of the scope, or the one ``set_name`` names."""
    section_name, set_tag = OPTION_SETS[req.scope]
    section = cib.section(root, section_name, create=False)
    sets = [] if section is None else list(section.iterfind(set_tag))
    return [s for s in sets if not req.set_name or s.get("id") == req.set_name]


def _read_option(root: cib.Element, req: AttributeRequest) -> str | None:
    for nvset in _option_sets(root, req):
        for nv in nvset.iterfind("nvpair"):
            if nv.get("name") == req.name:
                return nv.get("value", "")
    return None


def edit(work: cib.Element, req: AttributeRequest) -> bool:
    """Apply a set or delete to ``work`` in place; whether anything changed. CrmError as the crm command says."""
    if req.scope in OPTION_COMMANDS:
        if req.command == "delete":
            return _delete_option(work, req)
        set_part = [f"$id={req.set_name}"] if req.set_name else []
        return crm(work, "configure", OPTION_COMMANDS[req.scope], *set_part, f"{req.name}={req.value or ''}")
    if req.command == "set":
        return crm(work, "node", node_command(req), req.node, "set", req.name, req.value or "")
    return crm(work, "node", node_command(req), req.node, "delete", req.name)


def _delete_option(work: cib.Element, req: AttributeRequest) -> bool:
    """Remove the option from every set it is in (or from the named set): crm has no command for this."""
    found = False
    for nvset in _option_sets(work, req):
        for nv in list(nvset.iterfind("nvpair")):
            if nv.get("name") == req.name:
                nvset.remove(nv)
                found = True
    return found


def nodes(root: cib.Element, now: float) -> NodesReply:
    """Every node the CIB declares, online or not as ``paceline status`` shows it, and the partition's quorum."""
    facts = crm_mon.facts(root, now)
    dc = facts["summary"]["dc"]
    return NodesReply(nodes=[NodeInfo(name=n["name"], id=str(n.get("id") or ""), online=bool(n["online"]))
                             for n in facts["nodes"]],
                      quorate=bool(dc and dc["quorum"]))
