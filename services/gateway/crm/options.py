"""Option sets, nodes and tags read by :mod:`paceline.crm.parse`, applied to the CIB.

Options go into crmsh's well-known sets (``cib-bootstrap-options``, ``rsc-options``, ``op-options``)
unless ``$id=NAME`` names another set, which is then created beside the first one; a set that exists
takes the new pairs (a name it has changes its value in place).
"""

from __future__ import annotations

from paceline.crm import references
from paceline.crm.constraints import require_target
from paceline.crm.context import Context
from paceline.crm.ids import IdIndex, named_set, require_free
from paceline.crm.parse import Definition, PairIndex
from paceline.shared import cib
from paceline.shared.cib import Element


def merge_option_set(root: Element, d: Definition, ctx: Context) -> str:
    """property / rsc_defaults / op_defaults: the pairs into the set of that id (created if needed)."""
    nvset = named_set(cib.section(root, d.section), d.element.tag, d.element.get("id", ""))
    index = PairIndex()  # as cib.put_nvpair, pair after pair, without searching the set for each
    set_id = nvset.get("id")
    for nv in d.element.iterfind("nvpair"):
        name = nv.get("name", "")
        index.put(nvset, name, nv.get("value", ""), f"{set_id}-{name}")
    return "\n".join(d.notes)


def add_node(root: Element, d: Definition, ctx: Context) -> str:
    """A node: its name and its id must both be new."""
    uname, node_id = d.element.get("uname", ""), d.element.get("id", "")
    if cib.node_by_uname(root, uname) is not None:
        raise d.where.error(f"node {uname!r} already exists")
    if cib.find_id(root, node_id) is not None:
        raise d.where.error(f"id {node_id!r} is already in use")
    cib.section(root, "nodes").append(d.element)
    return ""


def add_tag(root: Element, d: Definition, ctx: Context) -> str:
    """A tag of existing resources, in the tags section (created with the first tag)."""
    require_free(d.where, root, d.element.get("id", ""))
    index = IdIndex(root)
    for rid in d.refs:
        require_target(root, d.where, rid, index)
    references.tags_section(root, create=True).append(d.element)
    return ""
