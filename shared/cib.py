"""The one CIB model: Pacemaker's XML schema held in lxml, with the helpers every service needs.

We keep the document itself as the model (rather than mapping it to classes)
because a CIB exported by ``cibadmin --query`` must import unchanged, unknown
elements included. Helpers here encode the schema's conventions once: section
paths, nvpair sets and their generated ids, option aliases, versions
(admin_epoch.epoch.num_updates) and referential validation.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, overload

from lxml import etree

Element = etree._Element

VALIDATE_WITH = "pacemaker-3.9"
FEATURE_SET = "3.19.0"
CONFIG_SECTIONS = ("crm_config", "nodes", "resources", "constraints", "rsc_defaults", "op_defaults")
RESOURCE_TAGS = ("primitive", "group", "clone", "master", "bundle")
#: Resources made of other resources (a group's members, a clone's child).
CONTAINER_TAGS = ("group", "clone", "master")
#: Elements whose ``id`` attribute names another object instead of defining one (sets, tags).
REFERENCE_TAGS = ("resource_ref", "obj_ref")
#: How Pacemaker writes a time for people (``cib-last-written``, crm_mon's "Last updated", failed actions): ctime
#: with the day of the month padded by a space (``Dec  5``), not a zero.
TIME_FORMAT = "%a %b %e %H:%M:%S %Y"


class CibError(ValueError):
    """A CIB that cannot be parsed or fails validation; message is user-facing."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


@dataclass(frozen=True, order=True)
class Version:
    admin_epoch: int = 0
    epoch: int = 0
    num_updates: int = 0

    def __str__(self) -> str:
        return f"{self.admin_epoch}.{self.epoch}.{self.num_updates}"

    @classmethod
    def parse(cls, text: str) -> Version:
        try:
            a, e, n = (int(x) for x in text.split("."))
        except ValueError:
            raise CibError(f"bad CIB version {text!r}: expected admin_epoch.epoch.num_updates") from None
        return cls(a, e, n)


_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)


def parse(text: str | bytes) -> Element:
    if isinstance(text, str):
        text = text.encode()
    try:
        root = etree.fromstring(text, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise CibError(f"malformed XML: {exc}") from None
    return root


def parse_cib(text: str | bytes) -> Element:
    """Parse a whole CIB, adding any missing mandatory section."""
    root = parse(text)
    if root.tag != "cib":
        raise CibError(f"expected a <cib> document, got <{root.tag}>")
    ensure_sections(root)
    return root


def attributes(el: Element) -> dict[str, str]:
    """All of an element's attributes in one plain dict: one copy costs less than many lookups.

    lxml-stubs type attribute names and values ``str | bytes``; lxml gives ``str`` for both.
    """
    return dict(el.items())  # type: ignore[arg-type]  # lxml-stubs: names and values are str, never bytes


def elements(parent: Element, *tags: str) -> Iterator[Element]:
    """``parent``'s child elements (only those named ``tags`` when given), without comments or processing
    instructions: their ``tag`` is no string (lxml's factory function), so code comparing tags would have to
    test every child's type first, and code compiled with mypyc, which checks each ``str`` it reads, fails
    on them."""
    return parent.iterchildren(*tags) if tags else parent.iterchildren(etree.Element)


def serialize(el: Element, pretty: bool = True) -> str:
    return etree.tostring(el, pretty_print=pretty, encoding="unicode")


def empty(nodes: Iterable[str] = ()) -> Element:
    root = etree.Element("cib", {
        "crm_feature_set": FEATURE_SET, "validate-with": VALIDATE_WITH,
        "epoch": "0", "num_updates": "0", "admin_epoch": "0"})
    ensure_sections(root)
    for i, name in enumerate(nodes, start=1):
        etree.SubElement(section(root, "nodes"), "node", id=str(i), uname=name)
    return root


def ensure_sections(root: Element) -> Element:
    """Add the mandatory sections a CIB lacks; returns its ``configuration``."""
    conf = root.find("configuration")
    if conf is None:
        conf = etree.SubElement(root, "configuration")
        root.insert(0, conf)
    for i, name in enumerate(CONFIG_SECTIONS[:4]):
        if conf.find(name) is None:
            conf.insert(i, etree.Element(name))
    if root.find("status") is None:
        etree.SubElement(root, "status")
    return conf


@overload
def section(root: Element, name: str, create: Literal[True] = True) -> Element: ...
@overload
def section(root: Element, name: str, create: bool = True) -> Element | None: ...


def section(root: Element, name: str, create: bool = True) -> Element | None:
    """A configuration section (crm_config, nodes, ...) or ``status``; with ``create`` it is made if missing."""
    if name == "status":
        el = root.find("status")
        if el is None and create:
            el = etree.SubElement(root, "status")
        return el
    if name not in CONFIG_SECTIONS:
        raise CibError(f"unknown CIB section {name!r}")
    conf = root.find("configuration")
    el = conf.find(name) if conf is not None else None
    if el is None and create:
        conf = ensure_sections(root)
        el = conf.find(name)
        if el is None:
            el = etree.SubElement(conf, name)
    return el


def version(root: Element) -> Version:
    def num(attr: str) -> int:
        try:
            return int(root.get(attr, "0"))
        except ValueError:
            return 0

    return Version(num("admin_epoch"), num("epoch"), num("num_updates"))


def set_version(root: Element, v: Version) -> None:
    root.set("admin_epoch", str(v.admin_epoch))
    root.set("epoch", str(v.epoch))
    root.set("num_updates", str(v.num_updates))


def stamp_change(root: Element, client: str, user: str = "root", origin: str = "") -> None:
    """Record who changed the configuration, as crm_mon's "Last change" line shows it."""
    root.set("cib-last-written", time.strftime(TIME_FORMAT, time.localtime()))
    root.set("update-client", client)
    root.set("update-user", user)
    if origin:
        root.set("update-origin", origin)


# ---------------------------------------------------------------- lookups

def iter_ids(root: Element) -> Iterator[tuple[str, Element]]:
    conf = root.find("configuration")
    if conf is None:
        return
    for el in conf.iter(etree.Element):          # elements only (no comments)
        if el.tag not in REFERENCE_TAGS:
            ident = el.get("id")
            if ident is not None:
                yield ident, el


def find_id(root: Element, ident: str) -> Element | None:
    """Find an element of the configuration by id (references with id-ref are skipped)."""
    for el in root.iterfind(f"configuration//*[@id='{_xpath_literal_safe(ident)}']"):
        if el.tag not in REFERENCE_TAGS:
            return el
    return None


def _xpath_literal_safe(ident: str) -> str:
    if "'" in ident:
        raise CibError(f"invalid id {ident!r}")
    return ident


def resource_elements(root: Element) -> Iterator[Element]:
    """Every resource element at any depth (primitives inside groups and clones too)."""
    res = section(root, "resources", create=False)
    if res is None:
        return
    yield from res.iter(*RESOURCE_TAGS)


def find_resource(root: Element, rid: str) -> Element | None:
    for el in resource_elements(root):
        if el.get("id") == rid:
            return el
    return None


def primitives(root: Element) -> Iterator[Element]:
    res = section(root, "resources", create=False)
    if res is not None:
        yield from res.iter("primitive")


def node_elements(root: Element) -> list[Element]:
    nodes = section(root, "nodes", create=False)
    return [] if nodes is None else list(nodes.iterfind("node"))


def node_names(root: Element) -> list[str]:
    return [n.get("uname") or n.get("id") or "" for n in node_elements(root)]


def node_by_uname(root: Element, uname: str) -> Element | None:
    for n in node_elements(root):
        if n.get("uname") == uname:
            return n
    return None


def agent_spec(prim: Element) -> str:
    """A primitive's agent as crm shows it (see :func:`agent_text`)."""
    return agent_text(prim.get("class", ""), prim.get("provider"), prim.get("type", ""))


def agent_text(cls: str, provider: str | None, kind: str) -> str:
    """``class:provider:type``, or ``class:type`` for a class without providers (lsb, service, stonith)."""
    return f"{cls}:{provider}:{kind}" if provider else f"{cls}:{kind}"


# ---------------------------------------------------------------- nvpairs

def nvset_values(parent: Element | None, set_tag: str = "meta_attributes") -> dict[str, str]:
    """The values stored in the plain (rule-less) nvpair sets under ``parent``, first set wins.

    This is what crm shows and edits. What a value *means* to the cluster (rules
    evaluated, sets ordered by score, defaults) is read through
    :mod:`paceline.shared.cluster` instead.
    """
    out: dict[str, str] = {}
    if parent is None:
        return out
    for nvset in parent.iterfind(set_tag):
        if nvset.find("rule") is not None:
            continue
        for nv in nvset.iterfind("nvpair"):
            name = nv.get("name")
            if name is not None and name not in out:
                out[name] = nv.get("value", "")
    return out


def put_nvpair(nvset: Element, name: str, value: str | None) -> None:
    """Set (or with None remove) a pair inside this very set; new nvpair ids are ``<set>-<name>``."""
    for nv in nvset.iterfind("nvpair"):
        if nv.get("name") == name:
            if value is None:
                nvset.remove(nv)
            else:
                nv.set("value", value)
            return
    if value is not None:
        etree.SubElement(nvset, "nvpair", id=f"{nvset.get('id')}-{name}", name=name, value=value)


def set_nvpair(parent: Element, set_tag: str, set_id: str, name: str, value: str | None) -> Element:
    """Set (or with ``value=None`` remove) a pair, creating the set with crmsh's ids if needed."""
    nvset = parent.find(set_tag)
    if nvset is None:
        if value is None:
            return parent
        nvset = etree.SubElement(parent, set_tag, id=set_id)
    put_nvpair(nvset, name, value)
    return nvset


# ---------------------------------------------------------------- status

#: node_state attributes as Pacemaker's controller writes them for a cluster member and for a
#: node that left cleanly or was fenced (the scheduler reads the latter as "down", not as a node to fence).
NODE_STATE_MEMBER = {"in_ccm": "true", "crmd": "online", "join": "member", "expected": "member"}
NODE_STATE_DOWN = {"in_ccm": "false", "crmd": "offline", "join": "down", "expected": "down"}
#: What Pacemaker's controller writes for a peer that left the membership: ``expected`` is left as it
#: was, so a node that joined (expected "member") and vanished without a clean shutdown reads as
#: unclean and is fenced when fencing is enabled ("peer is no longer part of the cluster"), whatever
#: its recorded history says - that history may be stale.
NODE_STATE_LOST = {"in_ccm": "false", "crmd": "offline", "join": "down"}


@overload
def node_state(root: Element, uname: str, node_id: str | None = None, create: Literal[True] = True) -> Element: ...
@overload
def node_state(root: Element, uname: str, node_id: str | None = None, create: bool = True) -> Element | None: ...


def node_state(root: Element, uname: str, node_id: str | None = None, create: bool = True) -> Element | None:
    """A node's ``node_state`` in the status section; with ``create`` it is made (id: the node's) if missing."""
    st = section(root, "status")
    for ns in st.iterfind("node_state"):
        if ns.get("uname") == uname:
            return ns
    if not create:
        return None
    if node_id is None:
        n = node_by_uname(root, uname)
        node_id = n.get("id", uname) if n is not None else uname
    return etree.SubElement(st, "node_state", id=node_id, uname=uname)


# ---------------------------------------------------------------- validation

def validate(root: Element) -> list[str]:
    """Referential problems a configuration must not have; empty when it is sound."""
    problems: list[str] = []
    seen: dict[tuple[bool, str], str] = {}
    for ident, el in iter_ids(root):
        if el.get("id-ref") is not None:
            continue
        # A <node>'s id is the cluster layer's name for it, not an XML ID (text in Pacemaker's schema): a
        # remote node's is its connection resource's id.
        key = (el.tag == "node" and el.getparent() is section(root, "nodes", create=False), ident)
        if key in seen:
            problems.append(f"duplicate id {ident!r} (a <{seen[key]}> and a <{el.tag}>)")
        else:
            seen[key] = el.tag
    resources = {el.get("id") for el in resource_elements(root)}
    templates = {el.get("id") for el in root.iterfind("configuration/resources/template")}
    tags = {el.get("id") for el in root.iterfind("configuration/tags/tag")}
    targets = resources | templates | tags
    cons = section(root, "constraints", create=False)
    if cons is not None:
        for c in elements(cons):
            cid = c.get("id", "?")
            refs = [c.get(a) for a in ("rsc", "with-rsc", "first", "then") if c.get(a) is not None]
            refs += [r.get("id") for r in c.iter("resource_ref")]
            for ref in refs:
                if ref not in targets:
                    problems.append(f"constraint {cid!r} references unknown resource {ref!r}")
            if c.tag == "rsc_location" and c.get("rsc") is None and c.get("rsc-pattern") is None \
                    and c.find("resource_set") is None:
                problems.append(f"location constraint {cid!r} names no resource")
    for prim in primitives(root):
        if not prim.get("type") and prim.get("template") is None:
            problems.append(f"primitive {prim.get('id')!r} has no agent type")
        if not prim.get("class") and prim.get("template") is None:
            problems.append(f"primitive {prim.get('id')!r} has no agent class")
    return problems


def check(root: Element) -> None:
    problems = validate(root)
    if problems:
        raise CibError("; ".join(problems), problems)
