"""Generated ids and named attribute sets, spelled as crmsh and Pacemaker's tools spell them."""

from __future__ import annotations

import re

from lxml import etree
from paceline.shared import cib
from paceline.shared.cib import Element

_BAD_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")


def sanitize_id(text: str) -> str:
    """Make ``text`` a valid XML id: ids may not start with a digit (Pacemaker prefixes ``num-``)."""
    text = _BAD_CHARS.sub(".", text)
    if not text or text[0].isdigit() or text[0] in "-.":
        text = "num-" + text
    return text


def taken(root: Element, ident: str) -> bool:
    return cib.find_id(root, ident) is not None


def unique_id(root: Element, base: str, reserved: set[str] | None = None) -> str:
    """``base`` if free, else ``base-0``, ``base-1``, ... (ids already handed out count as taken)."""
    reserved = reserved if reserved is not None else set()
    candidate, n = base, 0
    while taken(root, candidate) or candidate in reserved:
        candidate = f"{base}-{n}"
        n += 1
    reserved.add(candidate)
    return candidate


def named_set(parent: Element, tag: str, set_id: str, create: bool = True) -> Element | None:
    """The ``tag`` set under ``parent`` with exactly this id (``property $id=...`` targets one set)."""
    for nvset in parent.iterfind(tag):
        if nvset.get("id") == set_id:
            return nvset
    if not create:
        return None
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


def fill_set(root: Element, parent: Element, tag: str, set_id: str, pairs: list[tuple[str, str]]) -> Element:
    """A new set with these pairs, appended to ``parent`` (its id made unique if needed)."""
    nvset = etree.SubElement(parent, tag, id=unique_id(root, set_id))
    for name, value in pairs:
        put_pair(nvset, name, value)
    return nvset
