"""What happens to constraints and tags when the thing they name moves or goes away.

crmsh keeps the configuration consistent for the user: a resource that joins a
group hands its constraints to the group, a deleted group hands them to its
first member, and a deleted resource takes its "hanging" constraints and tag
entries with it. Each change is reported as one INFO line, as crmsh prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, overload

from lxml import etree
from paceline.shared import cib
from paceline.shared.cib import Element

_REF_ATTRS = ("rsc", "with-rsc", "first", "then")
_KIND = {"rsc_location": "location", "rsc_colocation": "colocation", "rsc_order": "order",
         "rsc_ticket": "rsc_ticket"}


def constraints(root: Element) -> list[Element]:
    cons = cib.section(root, "constraints", create=False)
    return [] if cons is None else [c for c in cons if isinstance(c.tag, str)]


@overload
def tags_section(root: Element, create: Literal[True]) -> Element: ...


@overload
def tags_section(root: Element, create: bool = False) -> Element | None: ...


def tags_section(root: Element, create: bool = False) -> Element | None:
    conf = root.find("configuration")
    if conf is None:
        if create:
            raise cib.CibError("the CIB has no configuration section")
        return None
    tags = conf.find("tags")
    if tags is None and create:
        tags = etree.SubElement(conf, "tags")
    return tags


def tag_elements(root: Element) -> list[Element]:
    tags = tags_section(root)
    return [] if tags is None else list(tags.iterfind("tag"))


def _label(c: Element) -> str:
    return f"{_KIND.get(c.tag, c.tag)}:{c.get('id')}"


def constraint_refs(c: Element) -> Iterator[str]:
    for attr in _REF_ATTRS:
        value = c.get(attr)
        if value is not None:
            yield value
    for ref in c.iter("resource_ref"):
        yield ref.get("id", "")


def _remove(el: Element) -> None:
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)


def repoint(root: Element, old: str, new: str, tags: bool = False) -> list[str]:
    """Make constraints (and with ``tags`` also tag entries) that name ``old`` name ``new``.

    Every resource set of every constraint loses the repeats of a resource it names, named or not.
    """
    notes: list[str] = []
    for c in constraints(root):
        note = _repoint_constraint(c, old, new)
        if note:
            notes.append(note)
    if tags:
        for tag in tag_elements(root):
            for ref in tag.iterfind("obj_ref"):
                if ref.get("id") == old:
                    ref.set("id", new)
    return notes


def _repoint_constraint(c: Element, old: str, new: str) -> str:
    """:func:`repoint` on one constraint: what to say about it ("" when it does not name ``old``)."""
    hit = False
    for attr in _REF_ATTRS:
        if c.get(attr) == old:
            c.set(attr, new)
            hit = True
    for rset in c.iter("resource_set"):
        seen: set[str] = set()
        for ref in list(rset.iterfind("resource_ref")):
            if ref.get("id") == old:
                ref.set("id", new)
                hit = True
            if ref.get("id") in seen:
                rset.remove(ref)
            seen.add(ref.get("id", ""))
    if not hit:
        return ""
    if c.tag in ("rsc_colocation", "rsc_order") and c.find("resource_set") is None \
            and len(set(constraint_refs(c))) < 2:
        _remove(c)
        return f"INFO: {_label(c)} would constrain {new} with itself; deleted"
    return f"INFO: modified {_label(c)} from {old} to {new}"


def repoint_all(root: Element, olds: list[str], new: str) -> list[str]:
    """``repoint(root, old, new)`` for each of ``olds`` in turn (a group's members), reading the constraints
    once instead of once per member: the same changes, and the same notes in the same order.

    The first member's repoint visits every constraint (it also drops the repeats in every resource set);
    after it, a constraint can change only by naming a later member, so each later member visits just the
    constraints that name it - in document order, less those deleted by then. ``new`` names nothing yet
    (it is a new id), so repointing one member never makes a constraint name another.
    """
    if not olds:
        return []
    notes = repoint(root, olds[0], new)
    later = set(olds[1:])
    naming: dict[str, list[Element]] = {}
    for c in constraints(root):
        for rid in dict.fromkeys(constraint_refs(c)):
            if rid in later:
                naming.setdefault(rid, []).append(c)
    for old in olds[1:]:
        for c in naming.get(old, ()):
            if c.getparent() is not None:
                note = _repoint_constraint(c, old, new)
                if note:
                    notes.append(note)
    return notes


def drop_references(root: Element, rid: str) -> list[str]:
    """Remove what would hang once ``rid`` is gone: constraints naming it, its set and tag entries."""
    notes: list[str] = []
    for c in constraints(root):
        if any(c.get(attr) == rid for attr in _REF_ATTRS):
            _remove(c)
            notes.append(f"INFO: hanging {_label(c)} deleted")
            continue
        touched = False
        for rset in list(c.iter("resource_set")):
            for ref in list(rset.iterfind("resource_ref")):
                if ref.get("id") == rid:
                    rset.remove(ref)
                    touched = True
            if rset.find("resource_ref") is None:
                _remove(rset)
        if touched and c.find("resource_set") is None and c.get("rsc") is None:
            _remove(c)
            notes.append(f"INFO: hanging {_label(c)} deleted")
        elif touched:
            notes.append(f"INFO: {_label(c)} no longer names {rid}")
    for tag in tag_elements(root):
        for ref in list(tag.iterfind("obj_ref")):
            if ref.get("id") == rid:
                tag.remove(ref)
        if tag.find("obj_ref") is None:
            _remove(tag)
            notes.append(f"INFO: empty tag:{tag.get('id')} deleted")
            notes += drop_references(root, tag.get("id", ""))
    return notes
