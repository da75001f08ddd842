"""Ids: the ones users type (checked), and the ones crmsh generates for the parts of a new object.

Parsing leaves a generated id empty (``id=""``, in the attribute position crmsh's XML has it) because the
id must be unique in the CIB the object joins; :func:`generate` fills them in when the object is applied,
in document order, so each id sees the ones handed out before it - exactly the ids crmsh makes.
"""

from __future__ import annotations

import re

from lxml import etree
from paceline.crm.words import Where
from paceline.shared import cib
from paceline.shared.cib import Element

_BAD_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")
#: Characters an id typed by a user may not contain (crmsh's check).
_NOT_IN_IDS = ":(){}[] "
SET_TAGS = ("instance_attributes", "meta_attributes", "utilization")
#: Elements whose id is generated from their parent's (sets, ops, nvpairs, rules, expressions, resource sets).
_GENERATED = frozenset((*SET_TAGS, "nvpair", "op", "resource_set", "rule", "expression", "date_expression",
                        "date_spec", "duration"))


def sanitize_id(text: str) -> str:
    """Make ``text`` a valid XML id: ids may not start with a digit (Pacemaker prefixes ``num-``)."""
    text = _BAD_CHARS.sub(".", text)
    if not text or text[0].isdigit() or text[0] in "-.":
        text = "num-" + text
    return text


def taken(root: Element, ident: str) -> bool:
    return cib.find_id(root, ident) is not None


def check_valid(where: Where, ident: str) -> str:
    """``ident`` if a user may name an object so (no CIB needed)."""
    if not ident or ident[0].isdigit() or any(ch in ident for ch in _NOT_IN_IDS):
        raise where.error(f"{ident!r} is not a valid id")
    return ident


def require_free(where: Where, root: Element, ident: str) -> None:
    """Refuse an id that some object of the configuration already has."""
    if taken(root, ident):
        raise where.error(f"id {ident!r} is already in use")


def require_new_id(where: Where, root: Element, ident: str) -> None:
    """Both checks, in crmsh's order: free in this CIB, and valid."""
    require_free(where, root, ident)
    check_valid(where, ident)


def unique_id(root: Element, base: str) -> str:
    """``base`` if free, else ``base-0``, ``base-1``, ..."""
    candidate, n = base, 0
    while taken(root, candidate):
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def named_set(parent: Element, tag: str, set_id: str) -> Element:
    """The ``tag`` set under ``parent`` with exactly this id, created if missing (``property $id=...``)."""
    for nvset in parent.iterfind(tag):
        if nvset.get("id") == set_id:
            return nvset
    return etree.SubElement(parent, tag, id=set_id)


put_pair = cib.put_nvpair


def ensure_set(owner: Element, tag: str, set_id: str) -> Element:
    """The owner's first ``tag`` set, created if missing.

    In a group or clone a new set goes before the member resources, where
    crm_resource puts it; in a primitive it goes last.
    """
    nvset = owner.find(tag)
    if nvset is None:
        nvset = etree.Element(tag, id=set_id)
        members = [i for i, c in enumerate(owner) if c.tag in cib.RESOURCE_TAGS]
        owner.insert(members[0] if members else len(owner), nvset)
    return nvset


def generate(root: Element, obj: Element) -> None:
    """Fill in the generated ids of ``obj``, a new object (or a new op) already placed in ``root``.

    An id the user typed for a set or a rule (``$id=``) is the base of the generated one, made unique like
    the others. All bases are read first, so that an id typed for a later part does not count as taken
    while an earlier part gets its id.
    """
    parts = [el for el in obj.iter() if el.tag in _GENERATED]
    bases: list[str] = []
    for el in parts:
        bases.append(el.get("id") or "")
        if el.get("id") is not None:
            el.set("id", "")
    for el, base in zip(parts, bases, strict=True):
        el.set("id", _generated_id(root, el, base))


def _generated_id(root: Element, el: Element, base: str) -> str:
    parent = el.getparent()
    assert parent is not None
    parent_id = parent.get("id", "")
    if el.tag in SET_TAGS:
        return unique_id(root, base or f"{parent_id}-{el.tag}")
    if el.tag == "nvpair":
        return f"{parent_id}-{el.get('name')}"
    if el.tag == "op":
        owner = parent.getparent()
        owner_id = owner.get("id", "") if owner is not None else ""
        return base or f"{owner_id}-{el.get('name')}-{el.get('interval')}"
    if el.tag == "resource_set":
        return unique_id(root, f"{parent_id}-{_set_index(parent, el)}")
    if el.tag == "rule":
        return unique_id(root, base or f"{parent_id}-rule")
    if el.tag in ("expression", "date_expression"):
        return unique_id(root, f"{parent_id}-expression")
    return f"{parent_id}-{el.tag}"  # date_spec, duration


def _set_index(parent: Element, rset: Element) -> int:
    """The place of ``rset`` among its constraint's resource sets (``<constraint>-0``, ``-1``, ...)."""
    return list(parent.iterfind("resource_set")).index(rset)
