"""configure primitive / monitor / group / clone / ms: resources in the CIB's resources section.

The XML keeps the parts in the order the user typed them (crmsh does, and the
recorded cases depend on it), and ids follow crmsh: ``<rsc>-instance_attributes``,
``<rsc>-meta_attributes``, ``<rsc>-utilization``, ops ``<rsc>-<op>-<interval>``.
"""

from __future__ import annotations

from lxml import etree
from paceline.crm import references
from paceline.crm.context import Context
from paceline.crm.ids import fill_set, put_pair, taken
from paceline.crm.words import Words
from paceline.shared import cib
from paceline.shared.cib import Element

CLASSES = ("ocf", "lsb", "service", "systemd", "stonith")
#: Attributes an <op> element carries itself; anything else typed after ``op NAME`` is an op parameter.
OP_ATTRIBUTES = frozenset(("id", "name", "interval", "description", "start-delay", "interval-origin",
                           "timeout", "enabled", "record-pending", "role", "requires", "on-fail"))
SET_KEYWORDS = {"params": ("instance_attributes", "instance_attributes"),
                "meta": ("meta_attributes", "meta_attributes"),
                "utilization": ("utilization", "utilization")}
_PRIMITIVE_PARTS = frozenset((*SET_KEYWORDS, "op"))
_OP_PARTS = frozenset((*_PRIMITIVE_PARTS, "op_params", "op_meta"))


def parse_agent(words: Words, spec: str) -> tuple[str, str | None, str]:
    """``class:provider:type`` / ``class:type`` / ``type`` (crmsh's default is ocf:heartbeat)."""
    parts = spec.split(":")
    if len(parts) == 1:
        return "ocf", "heartbeat", parts[0]
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


def check_agent(words: Words, ctx: Context, agent: tuple[str, str | None, str],
                params: list[tuple[str, str]]) -> None:
    """Refuse agents that are not installed and parameters the agent does not take, as crmsh does."""
    cls, prov, typ = agent
    spec = f"{cls}:{prov}:{typ}" if prov else f"{cls}:{typ}"
    if ctx.agent_known is not None and ctx.agent_known(cls, prov, typ) is False:
        raise words.error(f"no such resource agent {spec!r}")
    meta = ctx.agent_meta(cls, prov, typ) if ctx.agent_meta is not None else None
    if meta is None:
        return
    given = {name for name, _ in params}
    missing = [name for name in meta.required if name not in given]
    if missing:
        raise words.error(f"required parameter {missing[0]!r} of {spec} is not set")
    unknown = [name for name in given if name not in meta.params]
    if unknown:
        raise words.error(f"parameter {unknown[0]!r} is not defined by {spec}")


def resources_section(root: Element) -> Element:
    return cib.section(root, "resources")


def require_new_id(words: Words, root: Element, ident: str) -> None:
    if taken(root, ident):
        raise words.error(f"id {ident!r} is already in use")
    if not ident or ident[0].isdigit() or any(ch in ident for ch in ":(){}[] "):
        raise words.error(f"{ident!r} is not a valid id")


def primitive(root: Element, words: Words, ctx: Context) -> str:
    return _agent_object(root, words, ctx, "primitive")


def rsc_template(root: Element, words: Words, ctx: Context) -> str:
    """A resource template: an agent with parameters and operations that primitives take with ``@NAME``."""
    return _agent_object(root, words, ctx, "template")


def _agent_object(root: Element, words: Words, ctx: Context, tag: str) -> str:
    rid = words.take("template id" if tag == "template" else "resource id")
    require_new_id(words, root, rid)
    spec = words.take("resource agent (class:provider:type)")
    if spec.startswith("@") and tag == "template":
        raise words.error(f"a template cannot be based on another template ({spec})")
    if spec.startswith("@") and not any(t.get("id") == spec[1:] for t in resources_section(root).iterfind("template")):
        raise words.error(f"no rsc_template {spec[1:]!r} (create it first: rsc_template {spec[1:]} "
                          "CLASS:PROVIDER:TYPE)")
    el = etree.SubElement(resources_section(root), tag, id=rid)
    if spec.startswith("@"):
        el.set("template", spec[1:])
        agent = None
    else:
        agent = parse_agent(words, spec)
        el.set("class", agent[0])
        if agent[1]:
            el.set("provider", agent[1])
        el.set("type", agent[2])
    params = _fill_parts(root, el, words)
    if agent is not None:
        check_agent(words, ctx, agent, params)
    return ""


def _fill_parts(root: Element, el: Element, words: Words) -> list[tuple[str, str]]:
    """params / meta / utilization / op parts in typed order; returns the params given."""
    rid = el.get("id")
    params: list[tuple[str, str]] = []
    while words:
        key = words.take("a part")
        if key in SET_KEYWORDS:
            tag, suffix = SET_KEYWORDS[key]
            set_id, pairs = _pairs_of(words, key)
            if key == "params":
                params += pairs
            existing = el.find(tag) if set_id is None else None
            if existing is not None:
                for name, value in pairs:
                    put_pair(existing, name, value)
            else:
                fill_set(root, el, tag, set_id or f"{rid}-{suffix}", pairs)
        elif key == "op" and el.tag in ("primitive", "template"):
            _op(root, el, words)
        else:
            expected = "params, meta, utilization or op" if el.tag in ("primitive", "template") else "params or meta"
            raise words.unexpected(key, expected)
    return params


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


def _op(root: Element, el: Element, words: Words) -> None:
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
    add_op(root, el, name, attrs, op_params, op_meta)


def add_op(root: Element, el: Element, name: str, attrs: dict[str, str],
           op_params: list[tuple[str, str]] = (), op_meta: list[tuple[str, str]] = ()) -> Element:
    ops = el.find("operations")
    if ops is None:
        ops = etree.SubElement(el, "operations")
    interval = attrs.pop("interval", "0")
    op_id = attrs.pop("id", None) or f"{el.get('id')}-{name}-{interval}"
    op = etree.SubElement(ops, "op", id=op_id, name=name, interval=interval)
    for k, v in attrs.items():
        op.set(k, v)
    if op_params:
        fill_set(root, op, "instance_attributes", f"{op_id}-instance_attributes", list(op_params))
    if op_meta:
        fill_set(root, op, "meta_attributes", f"{op_id}-meta_attributes", list(op_meta))
    return op


def monitor(root: Element, words: Words, ctx: Context) -> str:
    rid = words.take("resource id")
    spec = words.take("INTERVAL[:TIMEOUT]")
    words.end()
    el = cib.find_resource(root, rid)
    if el is None or el.tag != "primitive":
        raise words.error(f"no primitive {rid!r}")
    interval, _, timeout = spec.partition(":")
    attrs = {"interval": interval}
    if timeout:
        attrs["timeout"] = timeout
    add_op(root, el, "monitor", attrs)
    return ""


def _take_child(root: Element, words: Words, rid: str, allowed: tuple[str, ...], what: str) -> Element:
    el = cib.find_resource(root, rid)
    if el is None:
        raise words.error(f"no resource {rid!r}")
    if el.tag not in allowed:
        raise words.error(f"{rid!r} is a {el.tag}; a {what} takes {' or '.join(allowed)} resources")
    parent = el.getparent()
    if parent.tag != "resources":
        raise words.error(f"{rid!r} already belongs to {parent.tag} {parent.get('id')!r}")
    return el


def group(root: Element, words: Words, ctx: Context) -> str:
    gid = words.take("group id")
    require_new_id(words, root, gid)
    members: list[Element] = []
    while words and words.peek() not in SET_KEYWORDS:
        rid = words.take("member")
        el = _take_child(root, words, rid, ("primitive",), "group")
        if el in members:
            raise words.error(f"{rid!r} is listed twice")
        members.append(el)
    if not members:
        raise words.error("a group needs at least one primitive")
    res = resources_section(root)
    grp = etree.Element("group", id=gid)
    res.insert(res.index(members[0]), grp)
    _fill_parts(root, grp, words)
    notes: list[str] = []
    for el in members:
        grp.append(el)
        notes += references.repoint(root, el.get("id"), gid)
    return "\n".join(notes)


def clone(root: Element, words: Words, ctx: Context, promotable: bool = False) -> str:
    cid = words.take("clone id")
    require_new_id(words, root, cid)
    rid = words.take("resource to clone")
    child = _take_child(root, words, rid, ("primitive", "group"), "clone")
    res = resources_section(root)
    el = etree.Element("clone", id=cid)
    res.insert(res.index(child), el)
    if promotable:
        fill_set(root, el, "meta_attributes", f"{cid}-meta_attributes", [("promotable", "true")])
    _fill_parts(root, el, words)
    el.append(child)
    return ""


def ms(root: Element, words: Words, ctx: Context) -> str:
    """``ms`` is the old spelling of a promotable clone."""
    return clone(root, words, ctx, promotable=True)
