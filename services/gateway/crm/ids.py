"""Ids: the ones users type (checked), and the ones crmsh generates for the parts of a new object.

Parsing leaves a generated id empty (``id=""``, in the attribute position crmsh's XML has it) because the
id must be unique in the CIB the object joins; :func:`generate` fills them in when the object is applied,
in document order, so each id sees the ones handed out before it - exactly the ids crmsh makes.

A command that names thousands of objects, or makes thousands of ids, looks them up in an :class:`IdIndex`
read once per command: searching the CIB for every id made such a command quadratic in its length (and
a rule of n expressions, each id tried as ``-0``, ``-1``, ... up to ``-n``, cubic).
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


def _searchable(ident: str) -> str:
    """``ident``, if :func:`paceline.shared.cib.find_id` could look for it (it refuses a quote)."""
    if "'" in ident:
        raise cib.CibError(f"invalid id {ident!r}")
    return ident


class IdIndex:
    """The configuration's ids and resources, read once, for a command that looks up many of them.

    :meth:`find` answers what :func:`paceline.shared.cib.find_id` would (the first element in document order
    with that id, references left out), :meth:`resource` what :func:`paceline.shared.cib.find_resource` would,
    and :meth:`unique` what :func:`unique_id` would - each in constant time. The index is of the CIB as it was
    when first asked; ids handed out since are told to it with :meth:`add`, and a caller that moves or removes
    objects must not trust it for them afterwards. Each table is read only when first needed.
    """

    def __init__(self, root: Element):
        self.root = root
        self._ids: dict[str, Element] | None = None
        self._later: dict[str, list[Element]] = {}  # the other elements of an id that several have
        self._resources: dict[str, Element] | None = None
        self._tags: dict[str, Element] | None = None
        self._next: dict[str, int] = {}

    def _read_ids(self) -> dict[str, Element]:
        if self._ids is None:
            self._ids = {}
            for conf in self.root.iterfind("configuration"):
                for el in conf.iterdescendants():
                    if isinstance(el.tag, str) and el.tag not in cib.REFERENCE_TAGS:
                        ident = el.get("id")
                        if ident is not None and self._ids.setdefault(ident, el) is not el:
                            self._later.setdefault(ident, []).append(el)
        return self._ids

    def find(self, ident: str) -> Element | None:
        return self._read_ids().get(_searchable(ident))

    def taken(self, ident: str) -> bool:
        return self.find(ident) is not None

    def find_remaining(self, ident: str) -> Element | None:
        """What :func:`paceline.shared.cib.find_id` finds now, for a caller that has only taken objects out
        since the index was read (``delete``): the first element of that id that is still in the CIB.
        Taking out (a container's members moving into its place) keeps the order of what remains."""
        first = self.find(ident)
        for el in (first, *self._later.get(ident, ())) if first is not None else ():
            if self._in_cib(el):
                return el
        return None

    def _in_cib(self, el: Element) -> bool:
        node: Element | None = el
        while node is not None:
            if node is self.root:
                return True
            node = node.getparent()
        return False

    def add(self, ident: str, el: Element) -> None:
        """``el`` now has the id ``ident`` (an id handed out after the index was read)."""
        if self._ids is not None:
            self._ids.setdefault(ident, el)

    def unique(self, base: str) -> str:
        """``base`` if free, else ``base-0``, ``base-1``, ...; the search for a base goes on where it stopped."""
        if not self.taken(base):
            return base
        n = self._next.get(base, 0)
        while self.taken(f"{base}-{n}"):
            n += 1
        self._next[base] = n
        return f"{base}-{n}"

    def resource(self, rid: str) -> Element | None:
        if self._resources is None:
            self._resources = {}
            for el in cib.resource_elements(self.root):
                self._resources.setdefault(el.get("id", ""), el)
        return self._resources.get(rid)

    def tag(self, tid: str) -> Element | None:
        """The first ``<tag>`` of the tags section with this id."""
        if self._tags is None:
            self._tags = {}
            conf = self.root.find("configuration")
            tags = conf.find("tags") if conf is not None else None
            for el in tags.iterfind("tag") if tags is not None else ():
                self._tags.setdefault(el.get("id", ""), el)
        return self._tags.get(tid)


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
    index = IdIndex(root)
    positions: dict[Element, int] = {}
    for el, base in zip(parts, bases, strict=True):
        ident = _generated_id(index, positions, el, base)
        el.set("id", ident)
        index.add(ident, el)


def _generated_id(index: IdIndex, positions: dict[Element, int], el: Element, base: str) -> str:
    """The id of one part; ``positions`` keeps the place of each resource set among its constraint's."""
    parent = el.getparent()
    assert parent is not None
    parent_id = parent.get("id", "")
    if el.tag in SET_TAGS:
        return index.unique(base or f"{parent_id}-{el.tag}")
    if el.tag == "nvpair":
        return f"{parent_id}-{el.get('name')}"
    if el.tag == "op":
        owner = parent.getparent()
        owner_id = owner.get("id", "") if owner is not None else ""
        return base or f"{owner_id}-{el.get('name')}-{el.get('interval')}"
    if el.tag == "resource_set":
        if el not in positions:  # the place of each set among its constraint's (<constraint>-0, -1, ...)
            positions.update((rset, n) for n, rset in enumerate(parent.iterfind("resource_set")))
        return index.unique(f"{parent_id}-{positions[el]}")
    if el.tag == "rule":
        return index.unique(base or f"{parent_id}-rule")
    if el.tag in ("expression", "date_expression"):
        return index.unique(f"{parent_id}-expression")
    return f"{parent_id}-{el.tag}"  # date_spec, duration
