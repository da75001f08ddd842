"""Resources read by :mod:`paceline.crm.parse`, applied to the CIB's resources section.

Applying checks what needs the CIB and the world around it - the id is free, a template or member
exists, the agent is installed and takes these parameters (as crmsh refuses them) - then places the
object, fills in crmsh's generated ids (``<rsc>-instance_attributes``, ``<rsc>-meta_attributes``,
``<rsc>-utilization``, ops ``<rsc>-<op>-<interval>``) and, for a group, hands it the constraints that
named its members.
"""

from __future__ import annotations

from paceline.crm import references
from paceline.crm.context import Context
from paceline.crm.ids import IdIndex, generate, require_free
from paceline.crm.parse import Definition, add_op
from paceline.crm.words import Where
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster.timespec import interval_ms


def check_agent(where: Where, ctx: Context, el: Element, root: Element | None = None) -> None:
    """Refuse agents that are not installed and parameters the agent does not take, as crmsh does.

    As in crmsh, an agent no node has is accepted - its parameters unchecked - with
    ``-o core.ignore_missing_metadata=yes`` or in an opt-in (``symmetric-cluster=false``) cluster, where
    a resource runs only where the user allows it and so may name an agent installed only there.
    """
    cls, prov, typ = el.get("class", ""), el.get("provider"), el.get("type", "")
    spec = f"{cls}:{prov}:{typ}" if prov else f"{cls}:{typ}"
    if ctx.agent_known is not None and ctx.agent_known(cls, prov, typ) is False:
        if ctx.preferences.ignore_missing_metadata or (root is not None and _opt_in(root)):
            return
        raise where.error(f"no such resource agent {spec!r} (to define it before it is installed: "
                          "paceline -o core.ignore_missing_metadata=yes ...)")
    meta = ctx.agent_meta(cls, prov, typ) if ctx.agent_meta is not None else None
    if meta is None:
        return
    given = list(dict.fromkeys(str(nv.get("name")) for nv in el.iterfind("instance_attributes/nvpair")))
    missing = [name for name in meta.required if name not in given]
    if missing:
        raise where.error(f"required parameter {missing[0]!r} of {spec} is not set")
    unknown = [name for name in given if name not in meta.params]
    if unknown:
        raise where.error(f"parameter {unknown[0]!r} is not defined by {spec}")


def _opt_in(root: Element) -> bool:
    """Whether the cluster is opt-in (``symmetric-cluster=false``): resources run only where allowed."""
    value = cib.nvset_values(cib.section(root, "crm_config", create=False), "cluster_property_set").get(
        "symmetric-cluster", "true")
    return value.strip().lower() in ("false", "no", "off", "0", "n")


def add_agent_object(root: Element, d: Definition, ctx: Context) -> str:
    """A primitive or template: appended to the resources section."""
    el = d.element
    require_free(d.where, root, el.get("id", ""))
    template = el.get("template")
    if template is not None and not any(t.get("id") == template
                                        for t in cib.section(root, "resources").iterfind("template")):
        raise d.where.error(f"no rsc_template {template!r} (create it first: rsc_template {template} "
                            "CLASS:PROVIDER:TYPE)")
    cib.section(root, "resources").append(el)
    generate(root, el)
    if template is None:
        check_agent(d.where, ctx, el, root)
    return ""


def add_monitor(root: Element, d: Definition, ctx: Context) -> str:
    """``monitor``: the op goes to the named primitive."""
    rid = d.refs[0]
    el = cib.find_resource(root, rid)
    if el is None or el.tag != "primitive":
        raise d.where.error(f"no primitive {rid!r}")
    interval = d.element.get("interval", "0")
    if any(op.get("name") == "monitor" and interval_ms(op.get("interval")) == interval_ms(interval)
           for op in el.iterfind("operations/op")):
        raise d.where.error(f"{rid} already has a monitor op with interval {interval}")
    add_op(el, d.element)
    generate(root, d.element)
    return ""


def _take_child(root: Element, where: Where, rid: str, allowed: tuple[str, ...], what: str,
                index: IdIndex | None = None) -> Element:
    el = (index or IdIndex(root)).resource(rid)
    if el is None:
        raise where.error(f"no resource {rid!r}")
    if el.tag not in allowed:
        raise where.error(f"{rid!r} is a {el.tag}; a {what} takes {' or '.join(allowed)} resources")
    parent = el.getparent()
    if parent is None or parent.tag != "resources":
        owner = (parent.tag, parent.get("id")) if parent is not None else ("", "")
        raise where.error(f"{rid!r} already belongs to {owner[0]} {owner[1]!r}")
    return el


def add_group(root: Element, d: Definition, ctx: Context) -> str:
    """A group takes its first member's place; constraints that named a member now name the group."""
    grp = d.element
    gid = grp.get("id", "")
    require_free(d.where, root, gid)
    index = IdIndex(root)  # one lookup table for all the members: the CIB is not searched once per member
    members: list[Element] = []
    listed: set[Element] = set()
    for rid in d.refs:
        el = _take_child(root, d.where, rid, ("primitive",), "group", index)
        if el in listed:
            raise d.where.error(f"{rid!r} is listed twice")
        members.append(el)
        listed.add(el)
    res = cib.section(root, "resources")
    res.insert(res.index(members[0]), grp)
    generate(root, grp)
    for el in members:
        grp.append(el)
    return "\n".join(references.repoint_all(root, [el.get("id", "") for el in members], gid))


def add_clone(root: Element, d: Definition, ctx: Context) -> str:
    """A clone (or ms) takes its child's place and then wraps it."""
    el = d.element
    require_free(d.where, root, el.get("id", ""))
    child = _take_child(root, d.where, d.refs[0], ("primitive", "group"), "clone")
    res = cib.section(root, "resources")
    res.insert(res.index(child), el)
    generate(root, el)
    el.append(child)
    return ""
