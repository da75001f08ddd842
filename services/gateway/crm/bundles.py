"""``configure bundle``: a resource in containers (Pacemaker's ``<bundle>``), read, applied and shown as crmsh does.

crmsh's syntax (``parse.py``'s ``parse_bundle``; crmsh 4.4 knows ``docker`` and ``rkt``, later crmsh adds
``podman``, the one RHEL and Debian ship)::

    bundle ID [description=TEXT]
        docker|podman|rkt image=IMAGE [replicas=N] [run-command=CMD] [options=OPTS] ...
        [network [ip-range-start=IP] [control-port=PORT] ... [port-mapping id=ID port=PORT ...] ...]
        [storage storage-mapping [id=ID] source-dir=DIR|source-dir-root=DIR target-dir=DIR [options=OPTS] ...]
        [meta NAME=VALUE ...]
        [primitive RSC]

What crmsh writes is what this writes: the parts in the order typed, a repeated keyword adding to the part
it named before, the primitive moved inside last, a ``port-mapping``/``storage-mapping`` without an id
given crmsh's ``<bundle>-N`` (the first one free), placed after the attributes typed. ``configure show``
prints one line per part, as ``crm configure show`` does (:func:`paceline.crm.show.show_resource`).
Unknown attributes, a second container technology, a missing ``image`` or a primitive that is not a
free-standing primitive are refused with one line naming the fault, before anything changes.
"""

from __future__ import annotations

from lxml import etree
from paceline.crm.context import Context
from paceline.crm.ids import IdIndex, check_valid, generate, require_free
from paceline.crm.parse import Definition, PairIndex, new_id
from paceline.crm.words import Words
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster.remote_nodes import BUNDLE_LAUNCHERS

#: Attributes Pacemaker's schema allows on each part (``resources-3.x.rng``, ``<bundle>``).
LAUNCHER_ATTRS = ("image", "replicas", "replicas-per-host", "promoted-max", "masters", "run-command", "network",
                  "options")
NETWORK_ATTRS = ("ip-range-start", "control-port", "host-interface", "host-netmask", "add-host")
PORT_ATTRS = ("id", "port", "internal-port", "range")
STORAGE_ATTRS = ("id", "source-dir", "source-dir-root", "target-dir", "options")
#: The mapping each part may hold, and the attributes it takes.
MAPPINGS = {"network": ("port-mapping", PORT_ATTRS), "storage": ("storage-mapping", STORAGE_ATTRS)}
#: Words that end one part and start the next (crmsh's terminators).
PART_WORDS = frozenset((*BUNDLE_LAUNCHERS, "network", "storage", "meta", "primitive"))


def parse_bundle(words: Words) -> Definition:
    """``bundle ID ...`` into a ``<bundle>`` with its parts (the primitive named, not yet moved inside)."""
    bid = new_id(words, "bundle id")
    el = etree.Element("bundle", id=bid)
    if (words.peek() or "").startswith("description="):
        el.set("description", words.take("description").partition("=")[2])
    parts: dict[str, Element] = {}
    inner = ""
    pairs = PairIndex()
    while words:
        key = words.take("a part")
        if key in BUNDLE_LAUNCHERS:
            other = next((tag for tag in BUNDLE_LAUNCHERS if tag in parts and tag != key), None)
            if other:
                raise words.error(f"a bundle has one container technology: {other} or {key}, not both")
            part = _part(el, parts, key)
            _attributes(words, part, LAUNCHER_ATTRS, key)
        elif key in MAPPINGS:
            _part_with_mappings(words, _part(el, parts, key), key)
        elif key == "meta":
            nvset = parts.get("meta_attributes")
            if nvset is None:
                nvset = parts["meta_attributes"] = etree.SubElement(el, "meta_attributes", id="")
            found = words.pairs(PART_WORDS)
            if not found:
                raise words.error("meta needs name=value pairs")
            for name, value in found:
                pairs.put(nvset, name, value)
        elif key == "primitive":
            if inner:
                raise words.error(f"a bundle holds one primitive ({inner} already)")
            inner = check_valid(words, words.take("the primitive the bundle runs"))
        else:
            raise words.unexpected(key, "docker, podman, rkt, network, storage, meta or primitive")
    launcher = next((parts[tag] for tag in BUNDLE_LAUNCHERS if tag in parts), None)
    if launcher is None:
        raise words.error("a bundle needs its container: docker|podman|rkt image=IMAGE ...")
    if not launcher.get("image"):
        raise words.error(f"{launcher.tag} needs image=IMAGE")
    network = parts.get("network")
    if inner and (network is None or not (network.get("ip-range-start") or network.get("control-port"))):
        raise words.error(f"the cluster cannot reach {inner} inside the containers without network "
                          "ip-range-start=ADDRESS or control-port=PORT (Pacemaker refuses such a bundle)")
    el.remove(launcher)
    el.insert(0, launcher)   # the container first, as crmsh writes it
    return Definition(el, words, [inner] if inner else [])


def _part(el: Element, parts: dict[str, Element], tag: str) -> Element:
    """The part a keyword names: made at its first mention, added to by the next ones."""
    part = parts.get(tag)
    if part is None:
        part = parts[tag] = etree.SubElement(el, tag)
    return part


def _attributes(words: Words, part: Element, allowed: tuple[str, ...], what: str) -> None:
    found = words.pairs(PART_WORDS)
    if not found and part.tag in BUNDLE_LAUNCHERS and not part.attrib:
        raise words.error(f"{what} needs name=value pairs (image=IMAGE at least)")
    for name, value in found:
        _set(words, part, name, value, allowed, what)
    if words and words.peek() not in PART_WORDS:
        raise words.unexpected(words.peek() or "", f"name=value pairs for {what} or the next part")


def _set(words: Words, el: Element, name: str, value: str, allowed: tuple[str, ...], what: str) -> None:
    if name not in allowed:
        raise words.error(f"{what} has no attribute {name!r} (it takes {', '.join(allowed)})")
    if name == "id":
        check_valid(words, value)
    el.set(name, value)


def _part_with_mappings(words: Words, part: Element, key: str) -> None:
    """``network k=v ... port-mapping k=v ...`` / ``storage storage-mapping k=v ...``: each mapping word
    starts a new mapping element, which the pairs after it fill."""
    mapping, mapping_attrs = MAPPINGS[key]
    stop = PART_WORDS | {mapping}
    target, what = part, key
    allowed: tuple[str, ...] = NETWORK_ATTRS if key == "network" else ()
    while True:
        for name, value in words.pairs(stop):
            if not allowed:
                raise words.error(f"storage takes storage-mapping parts, not {name}={value}")
            _set(words, target, name, value, allowed, what)
        if not words.take_if(mapping):
            break
        target, allowed, what = etree.SubElement(part, mapping), mapping_attrs, mapping
        if not words or words.peek() in stop:
            raise words.error(f"{mapping} needs name=value pairs")
    if words and words.peek() not in PART_WORDS:
        raise words.unexpected(words.peek() or "", f"name=value pairs, {mapping} or the next part")


def add_bundle(root: Element, d: Definition, ctx: Context) -> str:
    """The bundle goes last among the resources; the primitive it names leaves its place for the inside."""
    el = d.element
    require_free(d.where, root, el.get("id", ""))
    index = IdIndex(root)
    inner = None
    if d.refs:
        inner = index.resource(d.refs[0])
        if inner is None:
            raise d.where.error(f"no resource {d.refs[0]!r}")
        parent = inner.getparent()
        if inner.tag != "primitive":
            raise d.where.error(f"{d.refs[0]!r} is a {inner.tag}; a bundle runs one primitive")
        if parent is None or parent.tag != "resources":
            owner = f"{parent.tag} {parent.get('id')!r}" if parent is not None else "nothing"
            raise d.where.error(f"{d.refs[0]!r} already belongs to {owner}")
    cib.section(root, "resources").append(el)
    generate(root, el)
    index = IdIndex(root)
    for mapping in el.iter("port-mapping", "storage-mapping"):
        if not mapping.get("id"):
            ident = index.unique(el.get("id", ""))
            mapping.set("id", ident)   # after the attributes typed, as crmsh adds it
            index.add(ident, mapping)
    if inner is not None:
        el.append(inner)
    return ""
