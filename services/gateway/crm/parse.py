"""The configure level's object commands read into XML, before any CIB is looked at (crmsh's parse.py).

``primitive``, ``rsc_template``, ``monitor``, ``group``, ``clone``, ``ms``, ``property``,
``rsc_defaults``, ``op_defaults``, ``node`` and ``tag`` here, the constraints in
:mod:`paceline.crm.parse_constraints`. Each parser walks the words left to right and returns a
:class:`Definition`: the object's XML with the parts in the order they were typed (crmsh keeps it, and the
recorded cases depend on it), the ids the user typed, and an empty ``id=""`` where crmsh generates one -
generated ids must be unique in the CIB the object joins, so :mod:`paceline.crm.ids` makes them when the
object is applied. Syntax errors are raised here; what needs the CIB (ids in use, references, agents
installed) is checked when applying.

Reading is linear in the number of words: a pair finds its set's nvpair of the same name through a
:class:`PairIndex`, and a part finds the set it joins through a table made as the parts are read, never
by searching the children of the element again for every word.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from paceline.crm.cluster_options import unknown_option_warning
from paceline.crm.ids import check_valid, sanitize_id
from paceline.crm.words import Where, Words
from paceline.shared.cib import Element
from paceline.shared.cluster.timespec import parse_op_ms

CLASSES = ("ocf", "lsb", "service", "systemd", "stonith")
#: The roles a constraint or a monitor may name (the old names too, as crmsh 4.4 accepts and keeps them).
ROLES = ("Started", "Stopped", "Promoted", "Unpromoted", "Master", "Slave")
#: Attributes an <op> element carries itself; anything else typed after ``op NAME`` is an op parameter.
OP_ATTRIBUTES = frozenset(("id", "name", "interval", "description", "start-delay", "interval-origin",
                           "timeout", "enabled", "record-pending", "role", "requires", "on-fail"))
#: Part keyword -> the set element it fills.
SET_KEYWORDS = {"params": "instance_attributes", "meta": "meta_attributes", "utilization": "utilization"}
_PRIMITIVE_PARTS = frozenset((*SET_KEYWORDS, "op"))
_OP_PARTS = frozenset((*_PRIMITIVE_PARTS, "op_params", "op_meta"))
#: command -> (CIB section, set element, default set id)
OPTION_SETS = {
    "property": ("crm_config", "cluster_property_set", "cib-bootstrap-options"),
    "rsc_defaults": ("rsc_defaults", "meta_attributes", "rsc-options"),
    "op_defaults": ("op_defaults", "meta_attributes", "op-options"),
}
_NODE_PARTS = {"attributes": "instance_attributes", "utilization": "utilization"}


@dataclass
class Definition:
    """One configuration object as typed, before it meets a CIB.

    ``element`` is its XML; ``refs`` the ids it names that must exist when it is applied (members,
    constraint targets, a monitor's primitive), in the order typed; ``section`` where an option set goes;
    ``notes`` what reading it had to say (warnings); ``where`` names the command in errors.
    """

    element: Element
    where: Where
    refs: list[str] = field(default_factory=list)
    section: str = ""
    notes: list[str] = field(default_factory=list)


def new_id(words: Words, what: str) -> str:
    """The next word as the id of a new object (that it is free is checked when applying)."""
    return check_valid(words, words.take(what))


def put(nvset: Element, name: str, value: str) -> None:
    """A pair in a set being read: a repeated name keeps its place and takes the later value."""
    PairIndex().put(nvset, name, value)


class PairIndex:
    """The nvpair of each name in the sets being filled, so that a pair joins its set in constant time.

    Looking the name up among the set's pairs for every pair made a primitive with n parameters cost n²
    (a 900 KB ``params`` part took seconds). A set is read into the index the first time a pair goes to
    it, so sets that already had pairs keep their meaning: the first pair of a name is the one that
    changes.
    """

    def __init__(self) -> None:
        self._sets: dict[Element, dict[str | None, Element]] = {}

    def put(self, nvset: Element, name: str, value: str, nv_id: str = "") -> None:
        """Set ``name`` in ``nvset``: the pair it has takes the value, or a new pair (``id=nv_id``) is added."""
        names = self._sets.get(nvset)
        if names is None:
            names = self._sets[nvset] = {}
            for pair in nvset.iterfind("nvpair"):
                names.setdefault(pair.get("name"), pair)
        nv = names.get(name)
        if nv is not None:
            nv.set("value", value)
        else:
            names[name] = etree.SubElement(nvset, "nvpair", id=nv_id, name=name, value=value)


def fill(nvset: Element, pairs: list[tuple[str, str]]) -> None:
    """:func:`put` every pair, in order."""
    index = PairIndex()
    for name, value in pairs:
        index.put(nvset, name, value)


# ---------------------------------------------------------------- primitive, rsc_template, monitor

def parse_agent(words: Where, spec: str) -> tuple[str, str | None, str]:
    """``class:provider:type`` / ``class:type`` / ``type`` (crmsh's default is ocf:heartbeat)."""
    parts = spec.split(":")
    if len(parts) == 1:
        return "ocf", "heartbeat", parts[0]
    prov: str | None
    if len(parts) == 2:
        cls, typ = parts
        prov = None
    elif len(parts) == 3:
        cls, prov, typ = parts
    else:
        raise words.unexpected(spec, "an agent as class:provider:type")
    if cls not in CLASSES:
        raise words.error(f"unknown resource agent class {cls!r} in {spec!r} (known: {', '.join(CLASSES)})")
    if cls == "ocf" and not prov:
        raise words.error(f"agent {spec!r}: class ocf needs a provider (ocf:PROVIDER:TYPE)")
    if cls != "ocf" and prov is not None:
        raise words.error(f"agent {spec!r}: class {cls} takes no provider")
    if not typ:
        raise words.error(f"agent {spec!r} has no type")
    return cls, prov, typ


def primitive(words: Words) -> Definition:
    """``primitive ID AGENT|@TEMPLATE [params ...] [meta ...] [utilization ...] [op NAME ...] ...``."""
    return _agent_object(words, "primitive")


def rsc_template(words: Words) -> Definition:
    """A resource template: an agent with parameters and operations that primitives take with ``@NAME``."""
    return _agent_object(words, "template")


def _agent_object(words: Words, tag: str) -> Definition:
    rid = new_id(words, "template id" if tag == "template" else "resource id")
    spec = words.take("resource agent (class:provider:type)")
    if spec.startswith("@") and tag == "template":
        raise words.error(f"a template cannot be based on another template ({spec})")
    el = etree.Element(tag, id=rid)
    refs = []
    if spec.startswith("@"):
        el.set("template", spec[1:])
        refs.append(spec[1:])
    else:
        cls, prov, typ = parse_agent(words, spec)
        el.set("class", cls)
        if prov:
            el.set("provider", prov)
        el.set("type", typ)
    parts(el, words)
    return Definition(el, words, refs)


def parts(el: Element, words: Words) -> None:
    """params / meta / utilization (and for primitives op) parts, in the order typed.

    A part without ``$id=`` goes into the object's first set of its kind; one with ``$id=NAME`` is a set
    of its own, whose id is made from NAME. ``first`` keeps the first child of each kind (what
    ``el.find(tag)`` would find) as they are made, so that no part searches the element's children.
    """
    agent = el.tag in ("primitive", "template")
    index = PairIndex()
    first: dict[str, Element] = {}
    for child in el:  # a promotable clone comes with its meta_attributes
        if isinstance(child.tag, str):
            first.setdefault(child.tag, child)
    while words:
        key = words.take("a part")
        if key in SET_KEYWORDS:
            tag = SET_KEYWORDS[key]
            set_id, pairs = _pairs_of(words, key)
            nvset = first.get(tag) if set_id is None else None
            if nvset is None:
                nvset = etree.SubElement(el, tag, id=set_id or "")
                first.setdefault(tag, nvset)
            for name, value in pairs:
                index.put(nvset, name, value)
        elif key == "op" and agent:
            op = _op(words)
            if "operations" not in first:
                first["operations"] = etree.SubElement(el, "operations")
            first["operations"].append(op)
        else:
            raise words.unexpected(key, "params, meta, utilization or op" if agent else "params or meta")


def _pairs_of(words: Words, key: str) -> tuple[str | None, list[tuple[str, str]]]:
    """The pairs of one part; ``$id=NAME`` among them names the set itself."""
    set_id = None
    pairs = []
    for n, v in words.pairs(_OP_PARTS):
        if n == "$id":
            set_id = v
        else:
            pairs.append((n, v))
    if not pairs:
        raise words.error(f"{key} needs name=value pairs")
    return set_id, pairs


def _op(words: Words) -> Element:
    """``op NAME [NAME=VALUE ...] [op_params ...] [op_meta ...]``: the <op> (the caller puts it in place)."""
    name = words.take("operation name after 'op'")
    attrs: dict[str, str] = {}
    op_params: list[tuple[str, str]] = []
    op_meta: list[tuple[str, str]] = []
    target = None
    while words and words.peek() not in _PRIMITIVE_PARTS:
        if words.take_if("op_params"):
            target = op_params
            continue
        if words.take_if("op_meta"):
            target = op_meta
            continue
        word = words.take("op attribute")
        n, sep, v = word.partition("=")
        if not sep or not n:
            raise words.unexpected(word, f"name=value for op {name}")
        if target is not None:
            target.append((n, v))
        elif n in OP_ATTRIBUTES:
            attrs[n] = v
        else:
            op_params.append((n, v))
    return op_element(name, attrs, op_params, op_meta)


def op_element(name: str, attrs: dict[str, str], op_params: list[tuple[str, str]] | None = None,
               op_meta: list[tuple[str, str]] | None = None) -> Element:
    """An ``<op>`` (id ``<rsc>-<name>-<interval>`` unless ``id=`` is given; interval 0 unless given)."""
    attrs = dict(attrs)
    interval = attrs.pop("interval", "0")
    op_id = attrs.pop("id", "")  # empty: <rsc>-<name>-<interval>, made when applying
    op = etree.Element("op", id=op_id, name=name, interval=interval)
    for k, v in attrs.items():
        op.set(k, v)
    for tag, pairs in (("instance_attributes", op_params), ("meta_attributes", op_meta)):
        if pairs:
            fill(etree.SubElement(op, tag, id=""), pairs)
    return op


def add_op(el: Element, op: Element) -> None:
    """Append ``op`` to the resource's operations (created if it has none)."""
    ops = el.find("operations")
    if ops is None:
        ops = etree.SubElement(el, "operations")
    ops.append(op)


def monitor(words: Words) -> Definition:
    """``monitor RSC[:ROLE] INTERVAL[:TIMEOUT]``: a monitor op for an existing primitive, as crmsh writes it
    (``role`` before ``interval``; the id ``RSC-monitor-INTERVAL`` is made when applying)."""
    target = words.take("RSC[:ROLE]")
    rid, _, role = target.partition(":")
    if not rid:
        raise words.error(f"{target!r}: expected RSC[:ROLE]")
    if role and role not in ROLES:
        raise words.unexpected(role, f"a role ({', '.join(ROLES)})")
    spec = words.take("INTERVAL[:TIMEOUT]")
    words.end()
    interval, _, timeout = spec.partition(":")
    for what, value in (("interval", interval), ("timeout", timeout)):
        if (value or what == "interval") and parse_op_ms(value) is None:
            raise words.error(f"bad {what} {value!r} (a duration: 10s, 500ms, 5min, PT1M)")
    op = etree.Element("op", id="", name="monitor")   # crmsh's order: name, role, interval, timeout
    for name, value in (("role", role), ("interval", interval), ("timeout", timeout)):
        if value:
            op.set(name, value)
    return Definition(op, words, [rid])


# ---------------------------------------------------------------- group, clone, ms

def group(words: Words) -> Definition:
    """``group ID RSC ... [params ...] [meta ...]``."""
    gid = new_id(words, "group id")
    members: list[str] = []
    while words and words.peek() not in SET_KEYWORDS:
        members.append(words.take("member"))
    if not members:
        raise words.error("a group needs at least one primitive")
    el = etree.Element("group", id=gid)
    parts(el, words)
    return Definition(el, words, members)


def clone(words: Words, promotable: bool = False) -> Definition:
    """``clone ID RSC [params ...] [meta ...]``."""
    cid = new_id(words, "clone id")
    rid = words.take("resource to clone")
    el = etree.Element("clone", id=cid)
    if promotable:
        put(etree.SubElement(el, "meta_attributes", id=""), "promotable", "true")
    parts(el, words)
    return Definition(el, words, [rid])


def ms(words: Words) -> Definition:
    """``ms`` is the old spelling of a promotable clone."""
    return clone(words, promotable=True)


# ---------------------------------------------------------------- property, rsc_defaults, op_defaults

def property_set(words: Words) -> Definition:
    return _option_set(words, "property")


def rsc_defaults(words: Words) -> Definition:
    return _option_set(words, "rsc_defaults")


def op_defaults(words: Words) -> Definition:
    return _option_set(words, "op_defaults")


def _option_set(words: Words, kind: str) -> Definition:
    """``[$id=SET | SET:] NAME=VALUE ...``: crmsh's well-known set unless another one is named."""
    section, tag, set_id = OPTION_SETS[kind]
    word = words.peek() or ""
    if word.endswith(":") and "=" not in word:  # crm configure show writes "property NAME:"
        set_id = words.take("set id")[:-1]
    pairs = []
    for name, value in words.pairs():
        if name == "$id":
            set_id = value
        else:
            pairs.append((name, value))
    words.end()
    if not pairs:
        raise words.error("needs name=value pairs")
    nvset = etree.Element(tag, id=set_id)
    fill(nvset, pairs)
    notes = [w for w in (unknown_option_warning(name) for name, _ in pairs) if w] if kind == "property" else []
    return Definition(nvset, words, section=section, notes=notes)


# ---------------------------------------------------------------- node, tag

def node_set_id(node_id: str, suffix: str) -> str:
    """``<node-id>-<suffix>``, made a valid id as Pacemaker's tools do (node id 1 -> ``num-1-...``)."""
    return sanitize_id(f"{node_id}-{suffix}")


def node(words: Words) -> Definition:
    """``node [$id=ID | ID:] UNAME[:TYPE] [attributes k=v...] [utilization k=v...]``: a new node, or the
    attributes and utilization of an existing one (see :func:`paceline.crm.options.add_node`)."""
    node_id = None
    first = words.take("node name")
    if first.startswith("$id=") or first.endswith(":"):  # "$id=1 primary" or, as show prints it, "1: primary"
        node_id = first[4:] if first.startswith("$id=") else first[:-1]
        first = words.take("node name")
    uname, _, ntype = first.partition(":")
    node_id = node_id or uname
    el = etree.Element("node", id=node_id, uname=uname)
    if ntype:
        el.set("type", ntype)
    index = PairIndex()
    while words:
        key = words.take("attributes or utilization")
        tag = _NODE_PARTS.get(key)
        if tag is None:
            raise words.unexpected(key, "attributes or utilization")
        pairs = words.pairs(frozenset(_NODE_PARTS))
        if not pairs:
            raise words.error(f"{key} needs name=value pairs")
        set_id = sanitize_id(f"{uname}-{tag}")   # crmsh names a node's sets after its name, not its id
        nvset = next((s for s in el.iterfind(tag) if s.get("id") == set_id), None)
        if nvset is None:
            nvset = etree.SubElement(el, tag, id=set_id)
        for name, value in pairs:
            index.put(nvset, name, value, f"{set_id}-{name}")  # a node's ids need no CIB: <set>-<name>
    return Definition(el, words)


def tag(words: Words) -> Definition:
    """``tag ID[:] RSC...``: a named list of resources that commands and constraints may use."""
    tid = words.take("tag id")
    if tid.endswith(":"):
        tid = tid[:-1]
    else:
        words.take_if(":")
    check_valid(words, tid)
    members = words.rest()
    if not members:
        raise words.error("a tag needs at least one resource")
    el = etree.Element("tag", id=tid)
    for rid in members:
        etree.SubElement(el, "obj_ref", id=rid)
    return Definition(el, words, members)
