"""configure show: the CIB's configuration written back in crm syntax.

Objects are listed in crmsh's order (nodes, resources, tags, constraints,
option sets), each on one logical line continued with `` \\`` and a tab, as
``crm configure show`` prints them. The text reads back through ``execute``
into the same XML, so it doubles as an export format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from paceline.crm import references
from paceline.crm.bundles import MAPPINGS
from paceline.crm.tree import ident
from paceline.crm.words import INFINITY
from paceline.shared import cib
from paceline.shared.cib import RESOURCE_TAGS, Element
from paceline.shared.cluster.remote_nodes import BUNDLE_LAUNCHERS

_BARE = re.compile(r"^[^\s\"'\\]+$")
_SET_WORDS = {"instance_attributes": "params", "meta_attributes": "meta", "utilization": "utilization"}
_OPTION_KINDS = (("crm_config", "cluster_property_set", "property"),
                 ("rsc_defaults", "meta_attributes", "rsc_defaults"),
                 ("op_defaults", "meta_attributes", "op_defaults"))


def quote(value: str) -> str:
    if _BARE.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def show_score(score: str) -> str:
    return {INFINITY: "inf", "+" + INFINITY: "inf", "-" + INFINITY: "-inf"}.get(score, score)


def _attributes(el: Element) -> list[tuple[str, str]]:
    """(name, value) of every attribute, in document order."""
    return [(str(k), str(v)) for k, v in el.attrib.items()]


def _pairs(nvset: Element) -> str:
    return " ".join(f"{nv.get('name')}={quote(nv.get('value', ''))}" for nv in nvset.iterfind("nvpair"))


def _joined(head: str, parts: list[str]) -> str:
    return " \\\n\t".join([head, *parts])


def _set_part(owner_id: str, nvset: Element, word: str) -> str:
    default = f"{owner_id}-{nvset.tag}"
    id_part = "" if nvset.get("id") == default else f"$id={nvset.get('id')} "
    return f"{word} {id_part}{_pairs(nvset)}"


def _resource_parts(el: Element) -> list[str]:
    parts: list[str] = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _SET_WORDS:
            parts.append(_set_part(ident(el), child, _SET_WORDS[child.tag]))
        elif child.tag == "operations":
            parts += [_op(ident(el), op) for op in child.iterfind("op")]
    return parts


def _op(rid: str, op: Element) -> str:
    name, interval = op.get("name", ""), op.get("interval", "0")
    words = [f"op {name}"]
    if op.get("id") != f"{rid}-{name}-{interval}":
        words.append(f"id={op.get('id')}")
    words += [f"{k}={quote(v)}" for k, v in _attributes(op) if k not in ("id", "name")]
    for nvset in op:
        if nvset.tag == "instance_attributes":
            words.append(f"op_params {_pairs(nvset)}")
        elif nvset.tag == "meta_attributes":
            words.append(f"op_meta {_pairs(nvset)}")
    return " ".join(words)


def agent_text(prim: Element) -> str:
    if prim.get("template"):
        return "@" + prim.get("template", "")
    if prim.get("class") == "ocf" and prim.get("provider") == "heartbeat":
        return prim.get("type", "")
    return cib.agent_spec(prim)


def _children(el: Element) -> list[Element]:
    return [c for c in el if isinstance(c.tag, str) and c.tag in RESOURCE_TAGS]


def _bundle_parts(el: Element) -> list[str]:
    """A bundle's parts as crmsh shows them: the container, network and storage with their mappings inline,
    meta, then the primitive inside by its id (shown on its own as any primitive)."""
    lines: list[str] = []
    for part in el:
        if part.tag == "primitive":
            lines.append(f"primitive {part.get('id')}")
        elif part.tag == "meta_attributes":
            lines.append(_set_part(ident(el), part, "meta"))
        elif part.tag in (*BUNDLE_LAUNCHERS, *MAPPINGS):
            words = [part.tag, *(f"{k}={quote(v)}" for k, v in _attributes(part))]
            for mapping in part.iterfind("*"):
                words += [str(mapping.tag), *(f"{k}={quote(v)}" for k, v in _attributes(mapping))]
            lines.append(" ".join(words))
    return lines


def show_resource(el: Element) -> str:
    rid = el.get("id")
    if el.tag == "bundle":
        return _joined(f"bundle {rid}", _bundle_parts(el))
    if el.tag == "primitive":
        head = f"primitive {rid} {agent_text(el)}"
    elif el.tag == "template":
        head = f"rsc_template {rid} {agent_text(el)}"
    elif el.tag == "group":
        head = f"group {rid} " + " ".join(ident(c) for c in _children(el))
    else:
        word = "ms" if el.tag == "master" else el.tag
        head = f"{word} {rid} " + " ".join(ident(c) for c in _children(el))
    return _joined(head, _resource_parts(el))


def show_node(node: Element) -> str:
    nid, uname = node.get("id", ""), node.get("uname", "")
    head = f"node {nid}: {uname}" if uname and uname != nid else f"node {nid}"
    if node.get("type") and node.get("type") != "member":
        head += f":{node.get('type')}"
    parts = []
    for nvset in node:
        if nvset.tag == "instance_attributes":
            parts.append(f"attributes {_pairs(nvset)}")
        elif nvset.tag == "utilization":
            parts.append(f"utilization {_pairs(nvset)}")
    return _joined(head, parts)


def _expression(ex: Element) -> str:
    if ex.tag == "date_expression":
        op = ex.get("operation", "")
        if op == "gt":
            return f"date gt {quote(ex.get('start', ''))}"
        if op == "lt":
            return f"date lt {quote(ex.get('end', ''))}"
        pairs = [f"{k}={quote(ex.get(k, ''))}" for k in ("start", "end") if ex.get(k)]
        for child in ex:
            pairs += [f"{k}={quote(v)}" for k, v in _attributes(child) if k != "id"]
        return f"date {op} " + " ".join(pairs)
    op = ex.get("operation", "")
    if op in ("defined", "not_defined"):
        return f"{op} {ex.get('attribute')}"
    value = ex.get("value", "")
    if ex.get("type"):
        value = f"{ex.get('type')}:{value}"
    return f"{ex.get('attribute')} {op} {quote(value)}"


def _rule(rule: Element) -> str:
    words = ["rule"]
    if rule.get("role"):
        words.append(f"$role={rule.get('role')}")
    score, attribute = rule.get("score"), rule.get("score-attribute")
    if score is not None:
        words.append(show_score(score) + ":")
    elif attribute:
        words.append(attribute + ":")
    joiner = f" {rule.get('boolean-op', 'and')} "
    words.append(joiner.join(_expression(ex) for ex in rule if ex.tag in ("expression", "date_expression")))
    return " ".join(words)


def _sets(c: Element, suffix_attr: str) -> str:
    out: list[str] = []
    for rset in c.iterfind("resource_set"):
        suffix = f":{rset.get(suffix_attr)}" if rset.get(suffix_attr) else ""
        members = [f"{r.get('id')}{suffix}" for r in rset.iterfind("resource_ref")]
        if rset.get("sequential", "true") != "false" and rset.get("require-all", "true") != "false":
            out += members
            continue
        opened, closed = ("[", "]") if rset.get("require-all") == "false" else ("(", ")")
        if rset.get("require-all") == "false" and rset.get("sequential") != "false":
            members.append("sequential=true")
        out.append(" ".join([opened, *members, closed]))
    return " ".join(out)


def show_constraint(c: Element) -> str:
    cid = c.get("id")
    if c.tag == "rsc_location":
        if c.get("rsc"):
            target = c.get("rsc")
        elif c.get("rsc-pattern"):
            target = f"/{c.get('rsc-pattern')}/"
        else:
            target = "{ " + " ".join(ident(r) for r in c.iter("resource_ref")) + " }"
        head = f"location {cid} {target}"
        for attr in ("role", "resource-discovery"):
            if c.get(attr):
                head += f" {attr}={c.get(attr)}"
        rules = [_rule(r) for r in c.iterfind("rule")]
        if rules:
            return _joined(head, rules)
        return f"{head} {show_score(c.get('score', '0'))}: {c.get('node')}"
    if c.tag == "rsc_colocation":
        head = f"colocation {cid} {show_score(c.get('score', '0'))}:"
        body = _sets(c, "role") if c.find("resource_set") is not None else " ".join(
            f"{c.get(a)}:{c.get(a + '-role')}" if c.get(a + "-role") else c.get(a, "") for a in ("rsc", "with-rsc"))
        extra = "".join(f" {k}={c.get(k)}" for k in ("node-attribute", "influence") if c.get(k))
        return f"{head} {body}{extra}"
    if c.tag == "rsc_order":
        head = f"order {cid}"
        if c.get("kind"):
            head += f" {c.get('kind')}:"
        elif c.get("score"):
            head += f" {show_score(c.get('score', ''))}:"
        body = _sets(c, "action") if c.find("resource_set") is not None else " ".join(
            f"{c.get(a)}:{c.get(a + '-action')}" if c.get(a + "-action") else c.get(a, "") for a in ("first", "then"))
        extra = f" symmetrical={c.get('symmetrical')}" if c.get("symmetrical") else ""
        return f"{head} {body}{extra}"
    if c.tag == "rsc_ticket":
        body = _sets(c, "role") if c.find("resource_set") is not None else (
            f"{c.get('rsc')}:{c.get('rsc-role')}" if c.get("rsc-role") else c.get("rsc", ""))
        extra = f" loss-policy={c.get('loss-policy')}" if c.get("loss-policy") else ""
        return f"rsc_ticket {cid} {c.get('ticket')}: {body}{extra}"
    return f"# {c.tag} {cid} (shown with 'show xml {cid}')"


def show_tag(tag: Element) -> str:
    return f"tag {tag.get('id')}: " + " ".join(ident(r) for r in tag.iterfind("obj_ref"))


def objects(root: Element) -> Iterator[tuple[str, str]]:
    """(id, crm text) of every configuration object, in crmsh's order."""
    for node in cib.node_elements(root):
        yield ident(node), show_node(node)
    section = cib.section(root, "resources", create=False)
    for el in section.iterfind("template") if section is not None else ():
        yield ident(el), show_resource(el)
    resources = list(cib.resource_elements(root))
    for kinds in (("primitive",), ("group",), ("bundle",), ("clone", "master")):
        for el in resources:
            if el.tag in kinds:
                yield ident(el), show_resource(el)
    for tag in references.tag_elements(root):
        yield ident(tag), show_tag(tag)
    for kind in ("rsc_location", "rsc_colocation", "rsc_order", "rsc_ticket"):
        for c in references.constraints(root):
            if c.tag == kind:
                yield ident(c), show_constraint(c)
    for section_name, set_tag, word in _OPTION_KINDS:
        sec = cib.section(root, section_name, create=False)
        if sec is None:
            continue
        for nvset in sec.iterfind(set_tag):
            lines = [f"{nv.get('name')}={quote(nv.get('value', ''))}" for nv in nvset.iterfind("nvpair")]
            yield ident(nvset), _joined(f"{word} {nvset.get('id')}:", lines)


#: What ``show type:TYPE`` accepts: the first word of each object's line.
OBJECT_TYPES = ("node", "rsc_template", "primitive", "group", "bundle", "clone", "ms", "tag", "location",
                "colocation", "order", "rsc_ticket", "property", "rsc_defaults", "op_defaults")


def object_type(text: str) -> str:
    """The type of an object from its ``show`` line (``primitive d1 ...`` -> ``primitive``)."""
    return text.split(" ", 1)[0]


def show(root: Element, idents: list[str]) -> str:
    """The whole configuration, or only the named objects; unknown names are the caller's error."""
    wanted = set(idents)
    return "\n".join(text for ident, text in objects(root) if not wanted or ident in wanted)
