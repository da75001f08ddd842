"""configure property / rsc_defaults / op_defaults / node / tag.

Options go into crmsh's well-known sets (``cib-bootstrap-options``,
``rsc-options``, ``op-options``) unless ``$id=NAME`` names another set, which
is then created beside the first one.
"""

from __future__ import annotations

from lxml import etree
from paceline.crm import references
from paceline.crm.cluster_options import unknown_option_warning
from paceline.crm.constraints import require_target
from paceline.crm.context import Context
from paceline.crm.ids import named_set, put_pair, sanitize_id
from paceline.crm.resources import require_new_id
from paceline.crm.words import Words
from paceline.shared import cib
from paceline.shared.cib import Element

#: command -> (CIB section, set element, default set id)
OPTION_SETS = {
    "property": ("crm_config", "cluster_property_set", "cib-bootstrap-options"),
    "rsc_defaults": ("rsc_defaults", "meta_attributes", "rsc-options"),
    "op_defaults": ("op_defaults", "meta_attributes", "op-options"),
}


def option_set_command(kind: str):
    """The handler for one of property / rsc_defaults / op_defaults."""
    section_name, tag, default_id = OPTION_SETS[kind]

    def handler(root: Element, words: Words, ctx: Context) -> str:
        set_id = default_id
        word = words.peek() or ""
        if word.endswith(":") and "=" not in word:  # crm configure show writes "property NAME:"
            set_id = words.take("set id")[:-1]
        pairs = []
        for name, value in words.pairs():
            if name == "$id":
                set_id = value
            else:
                pairs.append((name, value))
        words.end()
        if not pairs:
            raise words.error("needs name=value pairs")
        nvset = named_set(cib.section(root, section_name), tag, set_id)
        for name, value in pairs:
            put_pair(nvset, name, value)
        if kind != "property":
            return ""
        return "\n".join(w for w in (unknown_option_warning(name) for name, _ in pairs) if w)

    handler.__doc__ = f"configure {kind}: name=value pairs into {section_name}/{tag} {default_id!r}."
    return handler


def node_set_id(node: Element, suffix: str) -> str:
    """``<node-id>-<suffix>``, made a valid id as Pacemaker's tools do (node id 1 -> ``num-1-...``)."""
    return sanitize_id(f"{node.get('id')}-{suffix}")


def node(root: Element, words: Words, ctx: Context) -> str:
    """``node [$id=ID | ID:] UNAME[:TYPE] [attributes k=v...] [utilization k=v...]``."""
    node_id = None
    first = words.take("node name")
    if first.startswith("$id=") or first.endswith(":"):  # "$id=1 primary" or, as show prints it, "1: primary"
        node_id = first[4:] if first.startswith("$id=") else first[:-1]
        first = words.take("node name")
    uname, _, ntype = first.partition(":")
    if cib.node_by_uname(root, uname) is not None:
        raise words.error(f"node {uname!r} already exists")
    node_id = node_id or uname
    if cib.find_id(root, node_id) is not None:
        raise words.error(f"id {node_id!r} is already in use")
    el = etree.SubElement(cib.section(root, "nodes"), "node", id=node_id, uname=uname)
    if ntype:
        el.set("type", ntype)
    while words:
        key = words.take("attributes or utilization")
        tag = {"attributes": "instance_attributes", "utilization": "utilization"}.get(key)
        if tag is None:
            raise words.unexpected(key, "attributes or utilization")
        pairs = words.pairs(frozenset(("attributes", "utilization")))
        if not pairs:
            raise words.error(f"{key} needs name=value pairs")
        nvset = named_set(el, tag, node_set_id(el, tag))
        for name, value in pairs:
            put_pair(nvset, name, value)
    return ""


def tag(root: Element, words: Words, ctx: Context) -> str:
    """``tag ID[:] RSC...``: a named list of resources that commands and constraints may use."""
    tid = words.take("tag id")
    if tid.endswith(":"):
        tid = tid[:-1]
    else:
        words.take_if(":")
    require_new_id(words, root, tid)
    members = words.rest()
    if not members:
        raise words.error("a tag needs at least one resource")
    el = etree.SubElement(references.tags_section(root, create=True), "tag", id=tid)
    for rid in members:
        require_target(root, words, rid)
        etree.SubElement(el, "obj_ref", id=rid)
    return ""
