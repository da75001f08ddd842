"""``location``, ``colocation`` and ``order`` read into XML, before any CIB is looked at.

Sets follow crmsh's brackets: a run of plain resources is one (sequential) set,
``( ... )`` is a set with sequential=false and ``[ ... ]`` one with
require-all=false (and sequential=false). Generated ids are left empty here
(see :mod:`paceline.crm.parse`) and made when applying: set ids ``<constraint>-<n>``,
rule ids ``<constraint>-rule`` and expression ids ``<rule>-expression``, each
made unique as crmsh makes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from paceline.crm.parse import ROLES, Definition, new_id
from paceline.crm.words import Words, parse_score
from paceline.shared.cib import Element

ACTIONS = ("start", "stop", "promote", "demote")
KINDS = ("Mandatory", "Optional", "Serialize")
COMPARISONS = ("lt", "gt", "lte", "gte", "eq", "ne")
VALUE_TYPES = ("string", "number", "integer", "version")
_OPEN = {"(": ")", "[": "]", "{": "}"}


def take_score(words: Words, what: str = "SCORE:") -> str:
    words.unglue_colon()
    word = words.take(what)
    if not word.endswith(":"):
        raise words.unexpected(word, f"{what} (a score followed by a colon)")
    score = parse_score(word[:-1])
    if score is None:
        raise words.error(f"bad score {word[:-1]!r}: expected an integer, inf, +inf or -inf")
    return score


# ---------------------------------------------------------------- location

def location(words: Words) -> Definition:
    """``location ID RSC|{ RSC ... }|/PATTERN/ [role=] [resource-discovery=] SCORE: NODE | rule ...``."""
    cid = new_id(words, "constraint id")
    el = etree.Element("rsc_location", id=cid)
    refs: list[str] = []
    words.words[words.pos:] = _split_brackets(words.words[words.pos:])
    target = words.take("resource")
    if target == "{":
        rset = etree.SubElement(el, "resource_set", id="")
        while (rid := words.take("'}' closing the resource set")) != "}":
            refs.append(rid)
            etree.SubElement(rset, "resource_ref", id=rid)
    elif len(target) > 2 and target.startswith("/") and target.endswith("/"):
        el.set("rsc-pattern", target[1:-1])
    else:
        refs.append(target)
        el.set("rsc", target)
    for name, value in words.pairs(frozenset(("rule",))):
        if name not in ("role", "resource-discovery"):
            raise words.unexpected(f"{name}={value}", "role=, resource-discovery=, SCORE: NODE or rule")
        el.set(name, value)
    if words.peek() == "rule":
        while words.take_if("rule"):
            _rule(el, words)
        return Definition(el, words, refs)
    el.set("score", take_score(words))
    el.set("node", words.take("node name after the score"))
    words.end()
    return Definition(el, words, refs)


def _rule(parent: Element, words: Words) -> None:
    rule = etree.SubElement(parent, "rule")
    base = ""
    for name, value in words.pairs():
        if name == "$id":
            base = value
        elif name in ("$role", "role"):
            rule.set("role", value)
        else:
            raise words.unexpected(f"{name}={value}", "rule [$role=ROLE] [SCORE:] EXPRESSION")
    rule.set("id", base)
    words.unglue_colon()
    word = words.peek()
    if word is not None and word.endswith(":") and word != "date:":
        words.take("score")
        score = parse_score(word[:-1])
        if score is not None:
            rule.set("score", score)
        elif word[:-1] and not word[0].isdigit():
            rule.set("score-attribute", word[:-1])
        else:
            raise words.error(f"bad score {word[:-1]!r}: expected an integer, inf, -inf or an attribute name")
    ops: set[str] = set()
    while True:
        _expression(rule, words)
        joiner = words.take_if("and", "or")
        if joiner is None:
            break
        ops.add(joiner)
    if len(ops) > 1:
        raise words.error("a rule cannot mix 'and' and 'or'; use two rules instead")
    if ops == {"or"}:  # 'and' is the schema's default, and crmsh writes it only when it is not
        rule.set("boolean-op", "or")
    if words and words.peek() != "rule":
        raise words.unexpected(words.peek() or "", "'and', 'or' or another rule")


def _expression(rule: Element, words: Words) -> None:
    first = words.take("expression")
    if first in ("defined", "not_defined"):
        attr = words.take(f"attribute after {first!r}")
        etree.SubElement(rule, "expression", id="", attribute=attr, operation=first)
        return
    if first == "date":
        _date_expression(rule, words)
        return
    op = words.take(f"comparison after {first!r} ({', '.join(COMPARISONS)})")
    if op not in COMPARISONS:
        raise words.unexpected(op, f"one of {', '.join(COMPARISONS)} or defined/not_defined")
    value = words.take(f"value after {first} {op}")
    attrs = {"attribute": first, "operation": op}
    typ, sep, rest = value.partition(":")
    if sep and typ in VALUE_TYPES:
        attrs["type"] = typ
        value = rest
    attrs["value"] = value
    etree.SubElement(rule, "expression", {"id": "", **attrs})


def _date_expression(rule: Element, words: Words) -> None:
    op = words.take("date operation (gt, lt, in_range, date_spec)")
    el = etree.SubElement(rule, "date_expression", id="", operation=op)
    if op == "gt":
        el.set("start", words.take("date after 'date gt'"))
    elif op == "lt":
        el.set("end", words.take("date after 'date lt'"))
    elif op in ("in_range", "date_spec"):
        pairs = words.pairs(frozenset(("and", "or", "rule")))
        if not pairs:
            raise words.error(f"date {op} needs name=value pairs")
        child_tag = "date_spec" if op == "date_spec" else "duration"
        child = None
        for name, value in pairs:
            if op == "in_range" and name in ("start", "end"):
                el.set(name, value)
                continue
            if child is None:
                child = etree.SubElement(el, child_tag, id="")
            child.set(name, value)
    else:
        raise words.unexpected(op, "gt, lt, in_range or date_spec")


# ---------------------------------------------------------------- resource lists and sets

@dataclass
class _Item:
    """One resource (``members`` of one) or one bracketed set of them."""

    members: list[tuple[str, str | None]]
    bracket: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def _split_brackets(words: list[str]) -> list[str]:
    """Let users write ``(A B)`` as well as ``( A B )``: leading and trailing brackets become words of their own
    (a word keeps at least one character; one with ``=`` keeps its trailing ones)."""
    out: list[str] = []
    for w in words:
        lead = max(0, min(len(w) - len(w.lstrip("([{")), len(w) - 1))
        trail = 0 if "=" in w else max(0, min(len(w) - len(w.rstrip(")]}")), len(w) - lead - 1))
        if lead:
            out += w[:lead]
        out.append(w[lead:len(w) - trail])
        if trail:
            out += w[len(w) - trail:]
    return out


def _member(words: Words, word: str, suffixes: tuple[str, ...], refs: list[str]) -> tuple[str, str | None]:
    rid, sep, suffix = word.partition(":")
    if sep and suffix not in suffixes:
        raise words.unexpected(word, f"RESOURCE or RESOURCE:{'|'.join(suffixes)}")
    refs.append(rid)
    return rid, (suffix if sep else None)


def _items(words: Words, suffixes: tuple[str, ...], set_options: tuple[str, ...], refs: list[str]) -> list[_Item]:
    words.words[words.pos:] = _split_brackets(words.words[words.pos:])
    items: list[_Item] = []
    while words:
        word = words.peek() or ""
        if "=" in word:
            break
        words.take("resource")
        if word in _OPEN:
            close = _OPEN[word]
            item = _Item([], bracket=word)
            while (inner := words.take(f"{close!r} closing the set")) != close:
                if "=" in inner:
                    name, _, value = inner.partition("=")
                    if name not in set_options:
                        raise words.unexpected(inner, f"a set option ({', '.join(set_options)})")
                    item.options[name] = value
                else:
                    item.members.append(_member(words, inner, suffixes, refs))
            if not item.members:
                raise words.error(f"empty resource set {word} {close}")
            items.append(item)
        else:
            items.append(_Item([_member(words, word, suffixes, refs)]))
    return items


def _fill_sets(words: Words, el: Element, items: list[_Item], suffix_attr: str) -> None:
    """Resource sets in the order typed; their ids (``<constraint>-<n>``) come when applying."""
    last: tuple[Element, str | None] | None = None
    for item in items:
        if item.bracket is None:
            rid, suffix = item.members[0]
            if last is None or last[1] != suffix:
                rset = etree.SubElement(el, "resource_set")
                if suffix:
                    rset.set(suffix_attr, suffix)
                last = (rset, suffix)
            etree.SubElement(last[0], "resource_ref", id=rid)
            continue
        last = None
        rset = etree.SubElement(el, "resource_set")
        rset.set("sequential", "false")
        if item.bracket == "[":
            rset.set("require-all", "false")
        suffixes = {s for _, s in item.members if s}
        if len(suffixes) > 1:
            raise words.error(f"one set cannot mix {suffix_attr}s {sorted(suffixes)}")
        if suffixes:
            rset.set(suffix_attr, suffixes.pop())
        for name, value in item.options.items():
            rset.set(name, value)
        for rid, _ in item.members:
            etree.SubElement(rset, "resource_ref", id=rid)


def _two_or_sets(words: Words, el: Element, suffixes: tuple[str, ...], suffix_attr: str,
                 simple: tuple[str, str, str, str], refs: list[str]) -> None:
    items = _items(words, suffixes, ("sequential", "require-all", suffix_attr), refs)
    if len(items) < 2 and not any(i.bracket for i in items):
        raise words.error("needs at least two resources")
    if len(items) == 2 and not any(i.bracket for i in items):
        (a, a_sfx), (b, b_sfx) = items[0].members[0], items[1].members[0]
        el.set(simple[0], a)
        el.set(simple[2], b)
        if a_sfx:
            el.set(simple[1], a_sfx)
        if b_sfx:
            el.set(simple[3], b_sfx)
        return
    _fill_sets(words, el, items, suffix_attr)


def _options(words: Words, el: Element, allowed: tuple[str, ...]) -> None:
    for name, value in words.pairs():
        if name not in allowed:
            raise words.unexpected(f"{name}={value}", f"one of {', '.join(a + '=' for a in allowed)}")
        el.set(name, value)
    words.end()


# ---------------------------------------------------------------- colocation / order

def colocation(words: Words) -> Definition:
    """``colocation ID SCORE: RSC[:ROLE] RSC[:ROLE] ... [node-attribute=] [influence=]``."""
    cid = new_id(words, "constraint id")
    el = etree.Element("rsc_colocation", id=cid)
    el.set("score", take_score(words))
    refs: list[str] = []
    _two_or_sets(words, el, ROLES, "role", ("rsc", "rsc-role", "with-rsc", "with-rsc-role"), refs)
    _options(words, el, ("node-attribute", "influence"))
    return Definition(el, words, refs)


def order(words: Words) -> Definition:
    """``order ID [KIND: | SCORE:] RSC[:ACTION] RSC[:ACTION] ... [symmetrical=]``."""
    cid = new_id(words, "constraint id")
    el = etree.Element("rsc_order", id=cid)
    words.unglue_colon()
    word = words.peek() or ""
    if word.endswith(":"):
        words.take("kind")
        el.set("kind", _kind(words, word[:-1]))
    refs: list[str] = []
    _two_or_sets(words, el, ACTIONS, "action", ("first", "first-action", "then", "then-action"), refs)
    _options(words, el, ("symmetrical",))
    return Definition(el, words, refs)


#: What ``loss-policy`` may say (Pacemaker's schema).
LOSS_POLICIES = ("stop", "demote", "fence", "freeze")


def rsc_ticket(words: Words) -> Definition:
    """``rsc_ticket ID TICKET: RSC[:ROLE] ... [loss-policy=]``, as crmsh writes it: one resource as ``rsc`` (and
    ``rsc-role``), several as resource sets, consecutive members with the same role in one set."""
    cid = new_id(words, "constraint id")
    el = etree.Element("rsc_ticket", id=cid)
    words.unglue_colon()
    ticket = words.take("TICKET:")
    if not ticket.endswith(":") or len(ticket) < 2:
        raise words.unexpected(ticket, "TICKET: (the ticket's name and a colon)")
    el.set("ticket", ticket[:-1])
    refs: list[str] = []
    items = _items(words, ROLES, ("sequential", "require-all", "role"), refs)
    if not items:
        raise words.error("needs at least one resource")
    if len(items) == 1 and items[0].bracket is None:
        rid, role = items[0].members[0]
        el.set("rsc", rid)
        if role:
            el.set("rsc-role", role)
    else:
        _fill_sets(words, el, items, "role")
    for name, value in words.pairs():
        if name != "loss-policy":
            raise words.unexpected(f"{name}={value}", "loss-policy=")
        if value not in LOSS_POLICIES:
            raise words.unexpected(f"{name}={value}", f"loss-policy={'|'.join(LOSS_POLICIES)}")
        el.set(name, value)
    words.end()
    return Definition(el, words, refs)


def _kind(words: Words, text: str) -> str:
    for kind in KINDS:
        if text.lower() == kind.lower():
            return kind
    score = parse_score(text)
    if score is None:
        raise words.error(f"bad kind or score {text!r}: expected {', '.join(KINDS)} or a score")
    return "Optional" if score == "0" else "Mandatory"
