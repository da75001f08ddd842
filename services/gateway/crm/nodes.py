"""The ``node`` level: standby/online, maintenance/ready, node attributes and utilization.

Permanent node attributes live in ``nodes/node/instance_attributes`` (id
``<node-id>-instance_attributes``, ``num-`` prefixed for numeric node ids, as
Pacemaker's tools write them); ``lifetime=reboot`` ones live in the node's
transient attributes in the status section, where they vanish with a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lxml import etree
from paceline.crm import show
from paceline.crm.context import Context
from paceline.crm.parse import node_set_id
from paceline.crm.registry import CONFIRM_WORDS
from paceline.crm.tree import detach, ident
from paceline.crm.words import Words
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster import fencing, remote_nodes
from paceline.shared.cluster.options import cluster_options

_LIFETIMES = ("forever", "reboot")
Handler = Callable[[Element, Words, Context], str]


def find_node(root: Element, words: Words, uname: str) -> Element:
    """The ``<node>`` entry of ``uname``. A remote node (named by a connection resource) gets one when first
    named, ``type="remote"`` with its name as id, as Pacemaker's tools add it to set a remote node's
    attribute (standby, utilization, ...); membership does not count it."""
    node = cib.node_by_uname(root, uname)
    if node is None:
        node = next((n for n in cib.node_elements(root) if n.get("id") == uname), None)
    if node is None and uname in remote_nodes.remote_node_names(root):
        node = etree.SubElement(cib.section(root, "nodes"), "node", id=uname, uname=uname, type="remote")
    if node is None:
        raise words.error(f"no node {uname!r} (known: {', '.join(cib.node_names(root)) or 'none'})")
    return node


def _uname(node: Element) -> str:
    return node.get("uname") or ident(node)


def transient_set(root: Element, node: Element, create: bool) -> Element | None:
    """The node's status-section attribute set (``status-<node-id>``), where reboot-lifetime values go."""
    ns = cib.node_state(root, _uname(node), node.get("id"), create=create)
    if ns is None:
        return None
    ta = ns.find("transient_attributes")
    if ta is None:
        if not create:
            return None
        ta = etree.SubElement(ns, "transient_attributes", id=node.get("id", ""))
    attrs = ta.find("instance_attributes")
    if attrs is None and create:
        attrs = etree.SubElement(ta, "instance_attributes", id=f"status-{node.get('id')}")
    return attrs


def _set_node_attr(root: Element, node: Element, name: str, value: str | None, lifetime: str = "forever") -> None:
    if lifetime == "reboot":
        nvset = transient_set(root, node, create=value is not None)
        parent = nvset.getparent() if nvset is not None else None
        if nvset is not None and parent is not None:
            cib.set_nvpair(parent, "instance_attributes", nvset.get("id", ""), name, value)
        return
    cib.set_nvpair(node, "instance_attributes", node_set_id(ident(node), "instance_attributes"), name, value)


def _flag(name: str, value: str) -> Handler:
    """standby/online/maintenance/ready: one node attribute, on the named node or the local one."""

    def handler(root: Element, words: Words, ctx: Context) -> str:
        lifetime = "forever"
        uname = None
        for word in words.rest():
            if word in _LIFETIMES:
                lifetime = word
            elif uname is None:
                uname = word
            else:
                raise words.unexpected(word, "[NODE] [forever|reboot]")
        uname = uname or ctx.local_node
        if not uname:
            raise words.error("no node named and no local node known")
        _set_node_attr(root, find_node(root, words, uname), name, value, lifetime)
        return ""

    return handler


def _attribute_command(kind: str) -> Handler:
    """attribute / utilization / status-attr NODE set|delete|show NAME [VALUE]."""

    def handler(root: Element, words: Words, ctx: Context) -> str:
        node = find_node(root, words, words.take("node name"))
        verb = words.take("set, delete or show")
        name = words.take("attribute name")
        value = words.take("value") if verb == "set" else None
        words.end()
        if verb not in ("set", "delete", "show"):
            raise words.unexpected(verb, "set, delete or show")
        parent: Element | None
        if kind == "status-attr":
            nvset = transient_set(root, node, create=verb == "set")
            parent, tag, set_id = (nvset.getparent() if nvset is not None else None,
                                   "instance_attributes", f"status-{node.get('id')}")
        else:
            tag = "utilization" if kind == "utilization" else "instance_attributes"
            parent, set_id = node, node_set_id(ident(node), tag)
        if verb == "show":
            values = cib.nvset_values(parent, tag)
            if name not in values:
                raise words.error(f"node {node.get('uname')!r} has no {kind} {name!r}")
            scope = "status" if kind == "status-attr" else "nodes"
            return f"scope={scope}  name={name} value={values[name]}"
        if parent is not None:
            cib.set_nvpair(parent, tag, set_id, name, value)
        return ""

    return handler


def delete_node(root: Element, words: Words, ctx: Context) -> str:
    node = find_node(root, words, words.take("node name"))
    words.end()
    detach(node)
    ns = cib.node_state(root, _uname(node), create=False)
    if ns is not None:
        detach(ns)
    return ""


def show_nodes(root: Element, words: Words, ctx: Context) -> str:
    names = words.rest()
    nodes = [find_node(root, words, n) for n in names] if names else cib.node_elements(root)
    return "\n".join(show.show_node(n) for n in nodes)


def node_status(root: Element, words: Words, ctx: Context) -> str:
    """What the cluster knows of each node's membership, from its node_state."""
    names = words.rest()
    nodes = [find_node(root, words, n) for n in names] if names else cib.node_elements(root)
    lines = []
    for n in nodes:
        uname = _uname(n)
        ns = cib.node_state(root, uname, n.get("id"), create=False)
        facts = {k: ns.get(k) for k in ("in_ccm", "crmd", "join", "expected")} if ns is not None else {}
        shown = " ".join(f"{k}={v}" for k, v in facts.items() if v is not None) or "never seen"
        lines.append(f"{uname}({n.get('id')}): {shown}")
    return "\n".join(lines)


def clearstate(root: Element, words: Words, ctx: Context) -> str:
    """Forget a node's operation history and transient attributes (after it was fenced by hand)."""
    node = find_node(root, words, words.take("node name"))
    words.end()
    ns = cib.node_state(root, _uname(node), node.get("id"), create=False)
    if ns is None:
        return ""
    for path in ("lrm/lrm_resources/lrm_resource", "transient_attributes/instance_attributes/nvpair"):
        for el in list(ns.iterfind(path)):
            detach(el)
    return f"INFO: state of node {node.get('uname')} cleared"


def fence(root: Element, words: Words, ctx: Context) -> str:
    """Ask the cluster to fence a node, as crmsh does: its transient ``terminate`` attribute becomes true
    and the DC's scheduler fences it. Refused when fencing is off or no device can fence the node, and
    unless confirmed (``-y``): fencing cuts a node's power."""
    uname = words.take("node name")
    extra = words.rest()
    for word in extra:
        if word not in CONFIRM_WORDS:
            raise words.unexpected(word, "NODE [-y]")
    node = find_node(root, words, uname)
    uname = node.get("uname") or uname
    now = time.time()
    if not fencing.fencing_enabled(cluster_options(root, now)):
        raise words.error(f"fencing is not available: stonith-enabled is false, so {uname} cannot be fenced "
                          "(set it with: configure property stonith-enabled=true)")
    if not fencing.plan(root, uname, now).levels:
        configured = [d.id for d in fencing.fence_devices(root, now)]
        why = (f"none of the fence devices ({', '.join(configured)}) can fence {uname} (check pcmk_host_list/"
               "pcmk_host_map, fencing-topology and target-role)") if configured else \
            "no fence device is configured (configure one, e.g. primitive fence1 stonith:fence_ipmilan params ...)"
        raise words.error(f"fencing is not available: {why}")
    if not extra:
        raise words.error(f"fencing {uname} cuts its power and moves its resources; confirm with -y "
                          f"(node fence {uname} -y)")
    _set_node_attr(root, node, "terminate", "true", "reboot")
    return f"INFO: fencing of node {uname} requested"


standby = _flag("standby", "on")
online = _flag("standby", "off")
maintenance = _flag("maintenance", "on")
ready = _flag("maintenance", "off")
attribute = _attribute_command("attribute")
utilization = _attribute_command("utilization")
status_attr = _attribute_command("status-attr")
