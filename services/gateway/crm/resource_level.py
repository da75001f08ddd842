"""The ``resource`` level: what crmsh does through crm_resource, applied to the CIB directly.

start/stop and friends are meta attributes (target-role, is-managed,
maintenance); a clone's child hands them to the clone, as crm_resource does.
migrate/ban are ``cli-prefer-<rsc>`` / ``cli-ban-<rsc>-on-<node>`` location
constraints; cleanup forgets operation history and failure counts in the
status section. Tags stand for their resources.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from lxml import etree
from paceline.crm import references
from paceline.crm.context import Context
from paceline.crm.ids import IdIndex, ensure_set, put_pair
from paceline.crm.lifetime import expiry, parse_duration
from paceline.crm.tree import detach, ident
from paceline.crm.words import INFINITY, Words
from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster import cib_now, unpack

_CLONES = ("clone", "master")
Handler = Callable[[Element, Words, Context], str]
Lifetime = tuple[int, timedelta]
_ON_OFF = {"on": "true", "off": "false", "true": "true", "false": "false", "yes": "true", "no": "false"}


# ---------------------------------------------------------------- lookups

def resolve(root: Element, words: Words, rid: str, index: IdIndex | None = None) -> list[Element]:
    """The resource ``rid``, or the resources of tag ``rid``; a command that names many passes one ``index``
    of the CIB for all of them (changing meta attributes leaves it true)."""
    index = index or IdIndex(root)
    el = index.resource(rid)
    if el is not None:
        return [el]
    tag = index.tag(rid)
    if tag is not None:
        found = [index.resource(ident(r)) for r in tag.iterfind("obj_ref")]
        return [f for f in found if f is not None]
    raise words.error(f"no resource or tag {rid!r}")


def _one(root: Element, words: Words, what: str = "resource") -> Element:
    rid = words.take(what)
    el = cib.find_resource(root, rid)
    if el is None:
        raise words.error(f"no resource {rid!r}")
    return el


def meta_owner(el: Element) -> Element:
    """A clone's child takes meta attributes through its clone."""
    parent = el.getparent()
    return parent if parent is not None and parent.tag in _CLONES else el


def set_meta(el: Element, name: str, value: str | None) -> None:
    owner = meta_owner(el)
    _put(owner, "meta_attributes", name, value)


def _put(owner: Element, tag: str, name: str, value: str | None) -> None:
    if value is None:
        nvset = owner.find(tag)
        if nvset is not None:
            put_pair(nvset, name, None)
        return
    put_pair(ensure_set(owner, tag, f"{owner.get('id')}-{tag}"), name, value)


# ---------------------------------------------------------------- meta-attribute commands

def _meta_flag(name: str, value: str) -> Handler:
    def handler(root: Element, words: Words, ctx: Context) -> str:
        rids = words.rest()
        if not rids:
            raise words.error("missing resource")
        index = IdIndex(root)
        for rid in rids:
            for el in resolve(root, words, rid, index):
                set_meta(el, name, value)
        return ""

    return handler


def restart(root: Element, words: Words, ctx: Context) -> str:
    """Offline, a restart is its two CIB changes (stop, then start); a live CLI waits in between."""
    rids = words.rest()
    if not rids:
        raise words.error("missing resource")
    index = IdIndex(root)
    for rid in rids:
        for el in resolve(root, words, rid, index):
            set_meta(el, "target-role", "Stopped")
            set_meta(el, "target-role", "Started")
    return ""


def maintenance(root: Element, words: Words, ctx: Context) -> str:
    el = _one(root, words)
    word = words.take_if(*_ON_OFF) or "on"
    words.end()
    set_meta(el, "maintenance", _ON_OFF[word])
    return ""


def _attr_command(tag: str, follow_clone: bool) -> Handler:
    """meta / param / utilization RSC set|delete|show NAME [VALUE]."""

    def handler(root: Element, words: Words, ctx: Context) -> str:
        el = _one(root, words)
        verb = words.take("set, delete or show")
        if verb not in ("set", "delete", "show"):
            raise words.unexpected(verb, "set, delete or show")
        name = words.take("attribute name")
        value = words.take("value") if verb == "set" else None
        words.end()
        owner = meta_owner(el) if follow_clone else el
        if verb == "show":
            values = cib.nvset_values(owner, tag)
            if name not in values:
                raise words.error(f"{owner.get('id')!r} has no {name!r}")
            return values[name]
        _put(owner, tag, name, value)
        return ""

    return handler


# ---------------------------------------------------------------- location preferences

def _node_arg(root: Element, words: Words) -> tuple[str, Lifetime | None]:
    node = None
    lifetime = None
    for word in words.rest():
        if word == "force":
            continue
        duration = parse_duration(word)
        if duration is not None and lifetime is None:
            lifetime = duration
        elif node is None:
            node = word
        else:
            raise words.unexpected(word, "RSC NODE [LIFETIME] [force]")
    if node is None:
        raise words.error("needs a NODE (moving away from the current node needs a live cluster)")
    if cib.node_by_uname(root, node) is None:
        raise words.error(f"no node {node!r} (known: {', '.join(cib.node_names(root)) or 'none'})")
    return node, lifetime


def _place(root: Element, cid: str, rsc: str, node: str, score: str, lifetime: Lifetime | None) -> None:
    """Replace constraint ``cid`` with a fresh one at the end, as crm_resource does."""
    old = cib.find_id(root, cid)
    if old is not None:
        detach(old)
    el = etree.SubElement(cib.section(root, "constraints"), "rsc_location", id=cid, rsc=rsc, role="Started")
    if lifetime is None:
        el.set("node", node)
        el.set("score", score)
        return
    kind = "prefer" if cid.startswith("cli-prefer-") else "ban"
    rule = etree.SubElement(el, "rule", id=f"cli-{kind}-rule-{rsc}", score=score)
    rule.set("boolean-op", "and")
    etree.SubElement(rule, "expression", id=f"cli-{kind}-expr-{rsc}", attribute="#uname",
                     operation="eq", value=node, type="string")
    etree.SubElement(rule, "date_expression", id=f"cli-{kind}-lifetime-end-{rsc}", operation="lt",
                     end=expiry(lifetime))


def migrate(root: Element, words: Words, ctx: Context) -> str:
    el = _one(root, words)
    node, lifetime = _node_arg(root, words)
    rid = ident(el)
    _place(root, f"cli-prefer-{rid}", rid, node, INFINITY, lifetime)
    return f"INFO: Move constraint created for {rid} to {node}"


def ban(root: Element, words: Words, ctx: Context) -> str:
    el = _one(root, words)
    node, lifetime = _node_arg(root, words)
    rid = ident(el)
    _place(root, f"cli-ban-{rid}-on-{node}", rid, node, "-" + INFINITY, lifetime)
    return f"INFO: Ban constraint created for {rid} on {node}"


def clear(root: Element, words: Words, ctx: Context) -> str:
    el = _one(root, words)
    words.take_if("force")
    words.end()
    rid = ident(el)
    gone = []
    for c in references.constraints(root):
        cid = c.get("id", "")
        if c.tag == "rsc_location" and (cid == f"cli-prefer-{rid}" or cid.startswith(f"cli-ban-{rid}-on-")):
            detach(c)
            gone.append(cid)
    return "\n".join(f"INFO: Removed {cid}" for cid in gone)


# ---------------------------------------------------------------- status section

def _history_names(el: Element) -> set[str]:
    """Names a resource's history may be kept under (clone instances are ``rsc:N``)."""
    return {ident(p) for p in el.iter("primitive")}


def _named_for(name: str, rids: set[str]) -> bool:
    base = name.split(":", 1)[0]
    return base in rids


def _failure_attr(name: str, rids: set[str]) -> bool:
    for prefix in ("fail-count-", "last-failure-"):
        if name.startswith(prefix):
            rest = name[len(prefix):]
            return _named_for(rest.split("#", 1)[0], rids)
    return False


def _node_states(root: Element, node: str | None) -> list[Element]:
    st = cib.section(root, "status")
    return [ns for ns in st.iterfind("node_state") if node is None or ns.get("uname") == node]


def cleanup(root: Element, words: Words, ctx: Context) -> str:
    args = [w for w in words.rest() if w != "force"]
    targets = [resolve(root, words, args[0])] if args else [list(cib.resource_elements(root))]
    node = args[1] if len(args) > 1 else None
    if len(args) > 2:
        raise words.unexpected(args[2], "[RSC] [NODE]")
    if node is not None and cib.node_by_uname(root, node) is None:
        raise words.error(f"no node {node!r}")
    rids: set[str] = set()
    for el in targets[0]:
        rids |= _history_names(el)
    lines = []
    for ns in _node_states(root, node):
        for lrm_rsc in list(ns.iterfind("lrm/lrm_resources/lrm_resource")):
            if _named_for(lrm_rsc.get("id", ""), rids):
                detach(lrm_rsc)
                lines.append(f"Cleaned up {lrm_rsc.get('id')} on {ns.get('uname')}")
        for nv in list(ns.iterfind("transient_attributes/instance_attributes/nvpair")):
            if _failure_attr(nv.get("name", ""), rids):
                detach(nv)
    return "\n".join(lines)


def failcount(root: Element, words: Words, ctx: Context) -> str:
    """failcount RSC show|delete|set NODE [0]: the fail-count-RSC* transient attributes."""
    el = _one(root, words)
    verb = words.take("show, delete or set")
    node = words.take("node name")
    value = words.take("value") if verb == "set" else None
    words.end()
    if verb not in ("show", "delete", "set"):
        raise words.unexpected(verb, "show, delete or set")
    if cib.node_by_uname(root, node) is None:
        raise words.error(f"no node {node!r}")
    if verb == "set" and value != "0":
        raise words.error("only 0 can be set: failures are counted by the cluster itself (needs a live cluster)")
    rids = _history_names(el)
    pairs = [nv for ns in _node_states(root, node)
             for nv in ns.iterfind("transient_attributes/instance_attributes/nvpair")
             if nv.get("name", "").startswith("fail-count-") and _failure_attr(nv.get("name", ""), rids)]
    if verb == "show":
        total = sum(_count(nv.get("value", "0")) for nv in pairs)
        shown = "INFINITY" if total >= 1000000 else str(total)
        return f"scope=status  name=fail-count-{el.get('id')} value={shown}"
    for nv in pairs:
        detach(nv)
    return ""


def _count(text: str) -> int:
    if text.upper().lstrip("+") == "INFINITY":
        return 1000000
    try:
        return int(text)
    except ValueError:
        return 0


def status(root: Element, words: Words, ctx: Context) -> str:
    """crm's ``resource status``: "resource R is running on: N" or "is NOT running", from the CIB's status."""
    rids = words.rest()
    index = IdIndex(root)
    named = [str(el.get("id")) for rid in rids for el in resolve(root, words, rid, index)]
    state = unpack(root, *cib_now(root, time.time()))
    wanted = [p for rid in named for p in state.by_id[rid].primitives()] if rids else state.primitives()
    return "\n".join(f"resource {p.id} is running on: {' '.join(p.status.active_on)}" if p.status.active_on
                     else f"resource {p.id} is NOT running" for p in wanted)


def why(root: Element, words: Words, ctx: Context) -> str:
    """The scheduler's per-node score breakdown for one resource."""
    el = _one(root, words)
    words.end()
    if ctx.explain is None:
        raise words.error("needs the scheduler's view of a cluster (no explanation source)")
    return ctx.explain(ident(el))


start = _meta_flag("target-role", "Started")
stop = _meta_flag("target-role", "Stopped")
promote = _meta_flag("target-role", "Promoted")
demote = _meta_flag("target-role", "Unpromoted")
manage = _meta_flag("is-managed", "true")
unmanage = _meta_flag("is-managed", "false")
meta = _attr_command("meta_attributes", follow_clone=True)
param = _attr_command("instance_attributes", follow_clone=False)
utilization = _attr_command("utilization", follow_clone=False)
