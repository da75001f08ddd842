"""Pacemaker's CIB operations, as ``cibadmin`` asks for them: query, create, modify, replace, delete, patch.

The gateway applies a write to a private copy of the CIB it just read and
writes the result back as one version, compare-and-set (re-run on a fresh
copy when another writer got in first), so these functions only transform an
element tree; ``cibadmin``'s stand-in reads with :func:`query`. Each follows
what Pacemaker's CIB manager does with the same request, because scripts and
crmsh depend on those details:

- a section (``-o resources``) is where the search starts; without one it is
  the whole CIB;
- ``create`` adds under the section, refused if a child with the same tag and
  id is there (``108``); without a section it is a ``modify`` of the whole CIB;
- ``modify`` merges into the first element (depth first) with the input's tag
  and id: attributes set (``name++``/``name+=N`` count up), children merged
  the same way or added; none found is ``105`` unless ``allow_create``;
- ``replace`` swaps the first such element below the search root for the
  input; the whole ``<cib>`` is replaced only by a CIB at least as new as the
  current one (older: ``103``);
- ``delete`` removes the first element whose tag, id and every given
  attribute match (nothing found is fine, as in Pacemaker); an XPath removes
  its first match, or all with ``delete_all``;
- with an XPath, ``create`` adds under its first match, ``modify`` merges
  into it (or the first element below with the input's tag and id) and
  ``replace`` puts the input in its place; no match is ``105``;
- ``patch`` applies a ``crm_diff`` patch: format 1 (``diff-removed`` /
  ``diff-added``, what crmsh sends) and format 2 (``change`` operations); one
  carrying versions applies only to that version (``103``).

Errors are :class:`CibOpError`, with the exit code Pacemaker's tools use
(``crm_error -X``) and one line. No I/O; imports only lxml and ``paceline.shared``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

from lxml import etree
from paceline.shared import cib

# Pacemaker's exit codes (crm_exit_t) for what a CIB operation can end with.
EX_OK = 0
EX_ERROR = 1
EX_UNIMPLEMENTED = 3
EX_USAGE = 64
EX_DATAERR = 65
EX_CONFIG = 78
EX_OLD = 103
EX_DIGEST = 104
EX_NOSUCH = 105
EX_EXISTS = 108

#: ``--scope`` names and where each section is (``status`` and ``configuration`` too, as Pacemaker allows).
SECTIONS = {
    "cib": "/cib", "configuration": "/cib/configuration", "status": "/cib/status",
    "crm_config": "/cib/configuration/crm_config", "nodes": "/cib/configuration/nodes",
    "resources": "/cib/configuration/resources", "constraints": "/cib/configuration/constraints",
    "rsc_defaults": "/cib/configuration/rsc_defaults", "op_defaults": "/cib/configuration/op_defaults",
    "acls": "/cib/configuration/acls", "fencing-topology": "/cib/configuration/fencing-topology",
    "tags": "/cib/configuration/tags", "alerts": "/cib/configuration/alerts",
}
OPERATIONS = ("query", "create", "modify", "replace", "delete", "patch")

#: crm_diff's marker of an element added or removed whole (format 1).
DIFF_MARKER = "__crm_diff_marker__"
_PLUS_PLUS = re.compile(r"^(?P<name>.+)(?:\+\+|\+=(?P<by>-?\d+))$")


class CibOpError(Exception):
    """What a CIB operation refused, in one line, and the exit code Pacemaker's tools give for it."""

    def __init__(self, message: str, code: int = EX_ERROR):
        super().__init__(message)
        self.code = code


def parse_input(text: str | bytes, what: str = "the input") -> cib.Element:
    """An operation's XML input; unparsable input is Pacemaker's "Couldn't parse input" (exit 78)."""
    try:
        return cib.parse(text)
    except (cib.CibError, etree.XMLSyntaxError, ValueError) as exc:
        raise CibOpError(f"could not parse {what} as XML: {exc}", EX_CONFIG) from None


def check_scope(scope: str | None) -> None:
    if scope and scope not in SECTIONS:
        raise CibOpError(f"unknown scope {scope!r}; one of {', '.join(SECTIONS)}", EX_USAGE)


def search_root(root: cib.Element, scope: str | None) -> cib.Element:
    """The element a section names (the whole CIB without one); a section the CIB lacks is 105."""
    check_scope(scope)
    if not scope or scope == "cib":
        return root
    found = _xpath(root, SECTIONS[scope])
    if not found:
        raise CibOpError(f"the CIB has no {scope} section", EX_NOSUCH)
    return found[0]


def _xpath(root: cib.Element, path: str) -> list[cib.Element]:
    try:
        found = root.getroottree().xpath(path)
    except etree.XPathError as exc:
        raise CibOpError(f"invalid XPath {path!r}: {exc}", EX_USAGE) from None
    if not isinstance(found, list):
        raise CibOpError(f"XPath {path!r} selects a value, not elements", EX_USAGE)
    return [el for el in found if isinstance(el, etree._Element) and isinstance(el.tag, str)]


# ------------------------------------------------------------------ query

def query(root: cib.Element, scope: str | None = None, xpath: str | None = None, no_children: bool = False,
          node_path: bool = False) -> str:
    """What ``cibadmin --query`` prints: the section (or CIB), or an XPath's match(es) - several wrapped in
    ``<xpath-query>``, or their paths with ``node_path``. Nothing found is 105."""
    if xpath:
        found = _xpath(root, xpath)
        if not found:
            raise CibOpError(f"no element matches {xpath}", EX_NOSUCH)
        if node_path:
            return "".join(f"{_path_of(el)}\n" for el in found)
    else:
        found = [search_root(root, scope)]
    copies = [_shallow(el) if no_children else copy.deepcopy(el) for el in found]
    if len(copies) == 1:
        return cib.serialize(copies[0])
    wrapper = etree.Element("xpath-query")
    wrapper.extend(copies)
    return cib.serialize(wrapper)


def _shallow(el: cib.Element) -> cib.Element:
    return etree.Element(el.tag, cib.attributes(el))


def _path_of(el: cib.Element) -> str:
    """An element's path as ``cibadmin -e`` prints it: each step with its id where it has one."""
    steps = []
    node: cib.Element | None = el
    while node is not None:
        ident = node.get("id")
        steps.append(f"{node.tag}[@id='{ident}']" if ident else str(node.tag))
        node = node.getparent()
    return "/" + "/".join(reversed(steps))


# ------------------------------------------------------------------ create, modify

def create(root: cib.Element, scope: str | None, obj: cib.Element) -> None:
    """Add ``obj`` (or the children of a section element of that name) under the section."""
    if not scope or scope == "cib" or obj.tag == "cib":
        modify(root, None, obj)
        return
    parent = search_root(root, scope)
    for child in list(obj) if obj.tag == scope else [obj]:
        if not isinstance(child.tag, str):
            continue
        ident = child.get("id")
        if ident is None:
            raise CibOpError(f"<{child.tag}> has no id to create it by", EX_DATAERR)
        if any(c.tag == child.tag and c.get("id") == ident for c in parent):
            raise CibOpError(f"{child.tag} {ident!r} already exists in {scope}", EX_EXISTS)
        parent.append(copy.deepcopy(child))


def modify(root: cib.Element, scope: str | None, obj: cib.Element, allow_create: bool = False) -> None:
    """Merge ``obj`` into the first element with its tag and id below the section (the ``<cib>`` itself
    for a ``<cib>`` input: its attributes, such as ``admin_epoch="admin_epoch++"``)."""
    start = search_root(root, None if obj.tag == "cib" else scope)
    target = root if obj.tag == "cib" else _first_match(start, obj)
    if target is None:
        if not allow_create:
            raise CibOpError(f"no {obj.tag}{_id_text(obj)} to modify{_in(scope)}", EX_NOSUCH)
        start.append(copy.deepcopy(obj))
        return
    _merge(target, obj)


def _id_text(obj: cib.Element) -> str:
    return f" {obj.get('id')!r}" if obj.get("id") else ""


def _in(scope: str | None) -> str:
    return f" in {scope}" if scope else ""


def _first_match(start: cib.Element, obj: cib.Element, include_start: bool = True,
                 any_id: bool = False) -> cib.Element | None:
    """Depth first from ``start``: the first element with ``obj``'s tag and id (both without an id match;
    with ``any_id``, an ``obj`` without an id matches its tag whatever the id, as ``replace`` reads it)."""
    for el in start.iter(obj.tag):
        if el is start and not include_start:
            continue
        if el.get("id") == obj.get("id") or (any_id and obj.get("id") is None):
            return el
    return None


def _merge(target: cib.Element, update: cib.Element) -> None:
    """``update``'s attributes set on ``target``, and its children merged into the matching ones (same tag,
    same id - the first of the tag when the update's has none) or added."""
    for name, value in cib.attributes(update).items():
        target.set(name, _expand(target, name, value))
    for child in update:
        if not isinstance(child.tag, str):
            continue
        match = next((c for c in target if c.tag == child.tag and
                      (child.get("id") is None or c.get("id") == child.get("id"))), None)
        if match is None:
            target.append(copy.deepcopy(child))
        else:
            _merge(match, child)


def _expand(target: cib.Element, name: str, value: str) -> str:
    """``value="value++"`` or ``value="value+=3"``: the attribute's current number counted up, as Pacemaker
    expands it (a current value that is no number counts as 0)."""
    m = _PLUS_PLUS.match(value)
    if m is None or m.group("name") != name:
        return value
    current = target.get(name) or "0"
    base = int(current) if current.lstrip("-").isdigit() else 0
    return str(base + (int(m.group("by")) if m.group("by") else 1))


# ------------------------------------------------------------------ replace, delete

def replace(root: cib.Element, scope: str | None, obj: cib.Element) -> cib.Element:
    """Replace the first element with ``obj``'s tag and id below the section by ``obj``; returns the new
    root (a different element when the whole CIB is replaced)."""
    if obj.tag == "cib":
        return replace_cib(root, obj)
    start = search_root(root, None if scope == obj.tag else scope)
    target = _first_match(start, obj, include_start=False, any_id=True)
    if target is None:
        raise CibOpError(f"no {obj.tag}{_id_text(obj)} to replace{_in(scope)}", EX_NOSUCH)
    parent = target.getparent()
    assert parent is not None
    parent.replace(target, copy.deepcopy(obj))
    return root


def replace_cib(root: cib.Element, new: cib.Element) -> cib.Element:
    """A whole CIB instead of the current one, refused when it is older (Pacemaker's "Update was older than
    existing configuration"): an old copy must not undo what was written since it was read."""
    current, incoming = cib.version(root), cib.version(new)
    if (incoming.admin_epoch, incoming.epoch, incoming.num_updates) < \
            (current.admin_epoch, current.epoch, current.num_updates):
        raise CibOpError(f"the CIB given is version {incoming}, older than the cluster's {current}; nothing "
                         "was written", EX_OLD)
    return copy.deepcopy(new)


def delete(root: cib.Element, scope: str | None, obj: cib.Element) -> None:
    """Remove the first element below the section whose tag, id and given attributes match ``obj`` (each
    child of ``obj`` when ``obj`` is the section element itself). Nothing matching is not an error."""
    start = search_root(root, scope)
    for wanted in list(obj) if scope and obj.tag == scope else [obj]:
        if not isinstance(wanted.tag, str):
            continue
        for el in start.iter(wanted.tag):
            if el is not start and _attributes_match(el, wanted):
                parent = el.getparent()
                assert parent is not None
                parent.remove(el)
                break


def _attributes_match(el: cib.Element, wanted: cib.Element) -> bool:
    return all(el.get(name) == value for name, value in wanted.attrib.items())


def delete_xpath(root: cib.Element, xpath: str, delete_all: bool = False) -> None:
    """Remove an XPath's first match (all of them with ``delete_all``); nothing matching is not an error.
    The ``<cib>`` element itself cannot be removed."""
    for el in _xpath(root, xpath)[: None if delete_all else 1]:
        parent = el.getparent()
        if parent is None:
            raise CibOpError("the <cib> element itself cannot be deleted", EX_USAGE)
        parent.remove(el)


# ------------------------------------------------------------------ patch

def patch(root: cib.Element, diff: cib.Element) -> None:
    """Apply a ``crm_diff`` patch (format 1 or 2) to ``root`` in place."""
    if diff.tag != "diff":
        raise CibOpError(f"a patch is a <diff> element, not <{diff.tag}>", EX_DATAERR)
    fmt = diff.get("format") or "1"
    if fmt == "1":
        _patch_v1(root, diff)
    elif fmt == "2":
        _patch_v2(root, diff)
    else:
        raise CibOpError(f"unknown patch format {fmt!r} (crm_diff writes 1 or 2)", EX_DATAERR)


def _version_of(el: cib.Element | None) -> tuple[int, int, int] | None:
    if el is None or all(el.get(k) is None for k in ("admin_epoch", "epoch", "num_updates")):
        return None
    return (_int(el.get("admin_epoch")), _int(el.get("epoch")), _int(el.get("num_updates")))


def _int(text: str | None) -> int:
    return int(text) if text is not None and text.strip().lstrip("-").isdigit() else 0


def _check_versions(root: cib.Element, source: cib.Element | None, target: cib.Element | None) -> None:
    """A patch that names the versions it goes from and to applies only to exactly its source version and
    only if it moves the version forward, as Pacemaker checks it: the CIB newer than the source, or a patch
    that does not move the version, is 103; the CIB older than the source is 1 (it needs the missing
    updates first). A patch without versions (crmsh's ``crm_diff --no-version``) is not checked."""
    src, dst = _version_of(source), _version_of(target)
    if src is None:
        return
    v = cib.version(root)
    current = (v.admin_epoch, v.epoch, v.num_updates)
    shown = ".".join(map(str, src))
    if current < src:
        raise CibOpError(f"the patch applies to version {shown}, newer than the CIB's {v}; nothing was written",
                         EX_ERROR)
    if current > src:
        raise CibOpError(f"the patch applies to version {shown}, older than the CIB's {v}; nothing was written",
                         EX_OLD)
    if dst is None or dst <= src:
        raise CibOpError(f"the patch does not move the version forward from {shown}; nothing was written",
                         EX_OLD)


def _patch_v1(root: cib.Element, diff: cib.Element) -> None:
    removed, added = diff.find("diff-removed"), diff.find("diff-added")
    _check_versions(root, removed, added)
    if removed is not None:
        for top in removed:
            if isinstance(top.tag, str) and top.tag == root.tag:
                _v1_remove(root, top)
    if added is not None:
        for top in added:
            if isinstance(top.tag, str) and top.tag == root.tag:
                _v1_add(root, top)
    for el in root.iter():
        if isinstance(el.tag, str) and DIFF_MARKER in el.attrib:
            del el.attrib[DIFF_MARKER]


def _v1_match(parent: cib.Element, like: cib.Element) -> cib.Element | None:
    return next((c for c in parent if isinstance(c.tag, str) and c.tag == like.tag and c.get("id") == like.get("id")),
                None)


def _v1_remove(target: cib.Element, removed: cib.Element) -> None:
    """An element marked ``removed:top`` goes; the attributes a removed element lists go; children by tag+id."""
    if removed.get(DIFF_MARKER) == "removed:top":
        parent = target.getparent()
        if parent is not None:
            parent.remove(target)
        return
    for name in cib.attributes(removed):
        if name not in ("id", DIFF_MARKER) and name in target.attrib:
            del target.attrib[name]
    for child in list(target):
        if not isinstance(child.tag, str):
            continue
        match = _v1_match(removed, child)
        if match is not None:
            _v1_remove(child, match)


def _v1_add(target: cib.Element, added: cib.Element) -> None:
    """The attributes an added element lists are set; children marked ``added:top`` are added whole, the
    others looked up by tag+id and patched the same way."""
    for name, value in added.attrib.items():
        if name != DIFF_MARKER:
            target.set(name, value)
    for child in added:
        if not isinstance(child.tag, str):
            continue
        match = _v1_match(target, child)
        if match is None:
            if child.get(DIFF_MARKER) != "added:top":
                raise CibOpError(f"the patch changes {child.tag}{_id_text(child)}, which the CIB does not have; "
                                 "nothing was written", EX_DIGEST)
            target.append(copy.deepcopy(child))
        else:
            _v1_add(match, child)


def _patch_v2(root: cib.Element, diff: cib.Element) -> None:
    version = diff.find("version")
    if version is not None:
        _check_versions(root, version.find("source"), version.find("target"))
    delayed: list[tuple[cib.Element, cib.Element]] = []
    for change in diff.iterfind("change"):
        op, path = change.get("operation"), change.get("path") or ""
        found = _xpath(root, path) if path else []
        if not found:
            if op == "delete":
                continue
            raise CibOpError(f"the patch's {op} of {path} finds nothing in the CIB; nothing was written", EX_DIGEST)
        target = found[0]
        if op in ("create", "move"):
            delayed.append((change, target))
        elif op == "delete":
            parent = target.getparent()
            if parent is None:
                raise CibOpError("the patch deletes the <cib> element itself", EX_DATAERR)
            parent.remove(target)
        elif op == "modify":
            result = next(iter(_elements(change.find("change-result"))), None)
            if result is None:
                raise CibOpError(f"the patch's modify of {path} has no change-result", EX_DATAERR)
            target.attrib.clear()
            target.attrib.update(dict(result.attrib))
        else:
            raise CibOpError(f"unknown patch operation {op!r}", EX_DATAERR)
    delayed.sort(key=lambda item: int(item[0].get("position") or 0))
    for change, target in delayed:
        _v2_place(change, target)


def _elements(parent: cib.Element | None) -> Iterator[cib.Element]:
    return iter(()) if parent is None else (c for c in parent if isinstance(c.tag, str))


def _v2_place(change: cib.Element, target: cib.Element) -> None:
    """``create`` puts the change's element under ``target`` at ``position``; ``move`` moves ``target``
    there among its siblings."""
    position = int(change.get("position") or 0)
    if change.get("operation") == "create":
        new = next(iter(_elements(change)), None)
        if new is None:
            raise CibOpError(f"the patch's create under {change.get('path')} carries no element", EX_DATAERR)
        target.insert(min(position, len(target)), copy.deepcopy(new))
        return
    parent = target.getparent()
    if parent is None:
        raise CibOpError("the patch moves the <cib> element itself", EX_DATAERR)
    parent.remove(target)
    parent.insert(min(position, len(parent)), target)


def _at_xpath(root: cib.Element, operation: str, xpath: str, obj: cib.Element) -> cib.Element:
    """create, modify or replace at an XPath's first match, as Pacemaker does: ``obj`` added as its child,
    merged into it (the match itself or the first element below it with ``obj``'s tag and id), or put in its
    place. Nothing matching is 105."""
    found = _xpath(root, xpath)
    if not found:
        raise CibOpError(f"no element matches {xpath}", EX_NOSUCH)
    match = found[0]
    if operation == "create":
        match.append(copy.deepcopy(obj))
    elif operation == "modify":
        target = _first_match(match, obj)
        if target is None:
            raise CibOpError(f"no {obj.tag}{_id_text(obj)} at {xpath} to modify", EX_NOSUCH)
        _merge(target, obj)
    elif operation == "replace":
        parent = match.getparent()
        if parent is None:
            return replace_cib(root, obj) if obj.tag == "cib" else root
        parent.replace(match, copy.deepcopy(obj))
    else:
        raise CibOpError(f"--xpath does not go with {operation} (query, create, modify, replace, delete take it)",
                         EX_USAGE)
    return root


# ------------------------------------------------------------------ one request

def apply(root: cib.Element, operation: str, xml: str = "", scope: str | None = None, xpath: str | None = None,
          delete_all: bool = False, allow_create: bool = False) -> cib.Element:
    """One write of ``cibadmin`` on ``root`` (changed in place); returns the resulting CIB."""
    check_scope(scope)
    if operation == "delete" and xpath:
        delete_xpath(root, xpath, delete_all)
        return root
    if not xml:
        raise CibOpError(f"{operation} needs XML (-X TEXT, -x FILE or -p)", EX_USAGE)
    obj = parse_input(xml)
    if xpath:
        return _at_xpath(root, operation, xpath, obj)
    if operation == "create":
        create(root, scope, obj)
    elif operation == "modify":
        modify(root, scope, obj, allow_create)
    elif operation == "replace":
        return replace(root, scope, obj)
    elif operation == "delete":
        delete(root, scope, obj)
    elif operation == "patch":
        patch(root, obj)
    else:
        raise CibOpError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS[1:])}", EX_USAGE)
    return root
