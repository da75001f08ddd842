"""Option sets, nodes and tags read by :mod:`paceline.crm.parse`, applied to the CIB.

Options go into crmsh's well-known sets (``cib-bootstrap-options``, ``rsc-options``, ``op-options``)
unless ``$id=NAME`` names another set, which is then created beside the first one; a set that exists
takes the new pairs (a name it has changes its value in place).
"""

from __future__ import annotations

from lxml import etree
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
    """A new node (its name and its id both new), or an existing node's attributes and utilization updated."""
    uname, node_id = d.element.get("uname", ""), d.element.get("id", "")
    existing = cib.node_by_uname(root, uname)
    if existing is not None:
        if node_id not in (uname, existing.get("id")):
            raise d.where.error(f"node {uname!r} already exists with id {existing.get('id')!r}")
        _update_node(root, existing, d.element)
        return ""
    if cib.find_id(root, node_id) is not None:
        raise d.where.error(f"id {node_id!r} is already in use")
    index = IdIndex(root)
    for nvset in d.element:
        _give_ids(index, nvset, index.unique(nvset.get("id", "")))
    cib.section(root, "nodes").append(d.element)
    return ""


def _update_node(root: Element, node: Element, new: Element) -> None:
    """crmsh's merge of ``configure node NAME attributes ... utilization ...`` into an existing node.

    A part joins the node's first set of its kind: a name the set has takes the new value in place; a new name
    gets the id crmsh gives it, ``<S>-<name>`` where S is the set id the part would have had on its own,
    made unique (so ``primary-instance_attributes-0-baz`` beside ``primary-instance_attributes``). A part of a
    kind the node has no set of becomes a new set at the end of the node, its ids as for a new node.
    """
    index = IdIndex(root)
    for part in new:
        own_id = index.unique(part.get("id", ""))
        target = node.find(part.tag)
        if target is None:
            node.append(part)
            _give_ids(index, part, own_id)
            continue
        had: dict[str | None, Element] = {}
        for nv in target.iterfind("nvpair"):
            had.setdefault(nv.get("name"), nv)
        for nv in part.iterfind("nvpair"):
            name = nv.get("name", "")
            if name in had:
                had[name].set("value", nv.get("value", ""))
                continue
            nv_id = index.unique(f"{own_id}-{name}")
            had[name] = etree.SubElement(target, "nvpair", name=name, value=nv.get("value", ""), id=nv_id)
            index.add(nv_id, had[name])


def _give_ids(index: IdIndex, nvset: Element, set_id: str) -> None:
    """A new set's id and its pairs' (``<set>-<name>``), each made unique in the CIB."""
    nvset.set("id", set_id)
    index.add(set_id, nvset)
    for nv in nvset.iterfind("nvpair"):
        nv_id = index.unique(f"{set_id}-{nv.get('name')}")
        nv.set("id", nv_id)
        index.add(nv_id, nv)


def add_tag(root: Element, d: Definition, ctx: Context) -> str:
    """A tag of existing resources, in the tags section (created with the first tag)."""
    require_free(d.where, root, d.element.get("id", ""))
    index = IdIndex(root)
    for rid in d.refs:
        require_target(root, d.where, rid, index)
    references.tags_section(root, create=True).append(d.element)
    return ""
