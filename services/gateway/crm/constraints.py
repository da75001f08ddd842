"""Constraints read by :mod:`paceline.crm.parse_constraints`, applied to the CIB's constraints section.

Applying checks that the id is free and that every resource the constraint names exists (a resource,
a template or a tag, in the order typed), appends the constraint and fills in its generated ids.
"""

from __future__ import annotations

from paceline.crm.context import Context
from paceline.crm.ids import IdIndex, generate, require_free
from paceline.crm.parse import Definition
from paceline.crm.words import Where
from paceline.shared import cib
from paceline.shared.cib import Element


def require_target(root: Element, where: Where, rid: str, index: IdIndex | None = None) -> None:
    """Constraints may name resources, templates and tags; anything else is a typo.

    A command that names many passes one ``index`` of the CIB for all of them.
    """
    index = index or IdIndex(root)
    if index.resource(rid) is not None:
        return
    el = index.find(rid)
    if el is not None and el.tag in ("template", "tag"):
        return
    raise where.error(f"no resource or tag {rid!r}")


def add_constraint(root: Element, d: Definition, ctx: Context) -> str:
    """A location, colocation or order: appended to the constraints section."""
    require_free(d.where, root, d.element.get("id", ""))
    index = IdIndex(root)
    for rid in d.refs:
        require_target(root, d.where, rid, index)
    cib.section(root, "constraints").append(d.element)
    generate(root, d.element)
    return ""
