"""Evaluation of CIB ``<rule>`` elements (node attributes, dates, resource and op matches).

One evaluator serves location rules (per node), nvpair sets with rules
(instance/meta attributes, rsc_defaults, op_defaults) and cluster options, so
that a rule means the same thing wherever an administrator writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from paceline.shared import cib
from paceline.shared.cib import Element, elements
from paceline.shared.cluster.scores import parse_score
from paceline.shared.cluster.timespec import add_duration, interval_ms, parse_datetime
from paceline.shared.cluster.values import leading_int, whole_int


class _NoValues(Mapping[str, str]):
    """An empty, read-only mapping: the default of a context's params and meta. One shared instance instead of
    two new dicts per context (a large CIB makes tens of thousands of contexts); hashable, so a dataclass takes
    it as a default."""

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    __hash__ = object.__hash__


_NO_VALUES = _NoValues()


@dataclass(slots=True)
class RuleContext:
    """What a rule may look at; a missing part makes the expressions about it fail."""

    node_attrs: Mapping[str, str] | None = None
    now: float = 0.0
    agent: Mapping[str, str] | None = None          # class, provider, type of the resource
    op: tuple[str, int] | None = None               # op name, interval in ms
    params: Mapping[str, str] = _NO_VALUES
    meta: Mapping[str, str] = _NO_VALUES
    submatches: tuple[str, ...] = ()                # from rsc-pattern, for %0..%9


def evaluate(rule: Element, ctx: RuleContext) -> bool:
    results = []
    for child in elements(rule):
        results.append(_evaluate_child(child, ctx))
    if not results:
        return True
    if (rule.get("boolean-op") or "and").lower() == "or":
        return any(results)
    return all(results)


def _evaluate_child(el: Element, ctx: RuleContext) -> bool:
    tag = el.tag
    if tag == "rule":
        return evaluate(el, ctx)
    if tag == "expression":
        return _attribute_expression(el, ctx)
    if tag == "date_expression":
        return _date_expression(el, ctx.now)
    if tag == "rsc_expression":
        if ctx.agent is None:
            return False
        return all(el.get(k) is None or el.get(k) == ctx.agent.get(k, "") for k in ("class", "provider", "type"))
    if tag == "op_expression":
        if ctx.op is None:
            return False
        name, ms = ctx.op
        if el.get("name") != name:
            return False
        return el.get("interval") is None or interval_ms(el.get("interval")) == ms
    return False


def _substitute(text: str, submatches: tuple[str, ...]) -> str:
    if not submatches or "%" not in text:
        return text
    return re.sub(r"%(\d)", lambda m: submatches[int(m.group(1))] if int(m.group(1)) < len(submatches)
                  else "", text)


def _attribute_expression(el: Element, ctx: RuleContext) -> bool:
    attr = _substitute(el.get("attribute", ""), ctx.submatches)
    op = el.get("operation", "")
    source = el.get("value-source", "literal")
    expected = el.get("value")
    if expected is not None and source in ("param", "meta"):
        expected = (ctx.params if source == "param" else ctx.meta).get(expected)
    actual = None if ctx.node_attrs is None else ctx.node_attrs.get(attr)
    if op == "defined":
        return actual is not None
    if op == "not_defined":
        return actual is None
    if actual is None or expected is None:
        return op == "ne"
    kind = el.get("type")
    if kind is None:
        if op in ("lt", "gt", "lte", "gte"):
            kind = "number" if "." in actual or "." in expected else "integer"
        else:
            kind = "string"
    cmp = _compare(actual, expected, kind.lower())
    return {"eq": cmp == 0, "ne": cmp != 0, "lt": cmp < 0, "gt": cmp > 0,
            "lte": cmp <= 0, "gte": cmp >= 0}.get(op, False)


def _compare(a: str, b: str, kind: str) -> int:
    if kind == "integer":
        ia, ib = _as_int(a), _as_int(b)
        if ia is not None and ib is not None:
            return (ia > ib) - (ia < ib)
    elif kind == "number":
        fa, fb = _as_float(a), _as_float(b)
        if fa is not None and fb is not None:
            return (fa > fb) - (fa < fb)
    elif kind == "version":
        va, vb = _as_version(a), _as_version(b)
        return (va > vb) - (va < vb)
    la, lb = a.lower(), b.lower()
    return (la > lb) - (la < lb)


def _as_int(text: str) -> int | None:
    return leading_int(text, None)


def _as_float(text: str) -> float | None:
    m = re.match(r"\s*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)", text, re.ASCII)
    return float(m.group(1)) if m else None      # 5,000 digits or 1e999 are inf: comparable, not an error


def _as_version(text: str) -> list[tuple[int, str]]:
    """Dotted version parts, compared as numbers (by their digits, so 5,000 of them are no error)."""
    out = []
    for part in text.split("."):
        digits = (part.lstrip("0") or "0") if part.isascii() and part.isdigit() else "0"
        out.append((len(digits), digits))
    return out


def _date_expression(el: Element, now: float) -> bool:
    op = el.get("operation", "in_range")
    start = _opt_date(el.get("start"))
    end = _opt_date(el.get("end"))
    duration = el.find("duration")
    if op == "gt":
        return start is not None and now > start
    if op == "lt":
        return end is not None and now < end
    if op == "in_range":
        if end is None and start is not None and duration is not None:
            end = add_duration(start, cib.attributes(duration))
        if start is not None and now < start:
            return False
        return not (end is not None and now > end)
    if op == "date_spec":
        spec = el.find("date_spec")
        return spec is not None and _date_spec_matches(spec, now)
    return False


def _opt_date(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parse_datetime(text)
    except ValueError:
        return None


def _date_spec_matches(spec: Element, now: float) -> bool:
    dt = datetime.fromtimestamp(now, UTC)
    iso_year, iso_week, iso_day = dt.isocalendar()
    values = {"seconds": dt.second, "minutes": dt.minute, "hours": dt.hour, "monthdays": dt.day,
              "weekdays": iso_day, "yeardays": dt.timetuple().tm_yday, "months": dt.month,
              "weeks": iso_week, "years": dt.year, "weekyears": iso_year}
    for name, value in values.items():
        text = spec.get(name)
        if text is None:
            continue
        lo, _, hi = text.partition("-")
        low = whole_int(lo, None)
        high = whole_int(hi, None) if hi else low
        if low is None or high is None:
            return False
        if not low <= value <= high:
            return False
    return True


def rule_score(rule: Element, node_attrs: Mapping[str, str], submatches: tuple[str, ...] = ()) -> int | None:
    """The score a location rule gives a node, or None when a score-attribute is unusable there."""
    attr = rule.get("score-attribute")
    if attr is not None:
        value = node_attrs.get(_substitute(attr, submatches))
        if value is None:
            return None
        return parse_score(value, default=0)
    return parse_score(rule.get("score"), default=0)


def nvsets(parent: Element | None, set_tag: str, ctx: RuleContext, first: str | None = None) -> dict[str, str]:
    """Merge nvpair sets whose rules pass, highest set score first, first value wins.

    ``first`` names a set that goes before all others whatever its score, as
    Pacemaker does with ``cib-bootstrap-options`` among cluster property sets.
    """
    if parent is None or len(parent) == 0:
        return {}
    blocks = list(elements(parent, set_tag))
    if len(blocks) > 1:
        blocks.sort(key=lambda b: (b.get("id") != first, -parse_score(b.get("score"), 0)))
    out: dict[str, str] = {}
    for block in blocks:
        rule = block.find("rule")
        if rule is not None and not evaluate(rule, ctx):
            continue
        for nv in block.iterfind("nvpair"):
            name = nv.get("name")
            if name is not None and name not in out:
                out[name] = nv.get("value", "")
    return out


class NvsetMemo:
    """``nvsets`` of one element, computed once when none of its sets has a rule.

    rsc_defaults and op_defaults are merged for every resource and every
    operation; without rules the result cannot depend on the context, so a
    large cluster should not pay for it thousands of times. Callers must not
    modify the returned dict.
    """

    def __init__(self, parent: Element | None, set_tag: str):
        self.parent = parent
        self.set_tag = set_tag
        self.static = parent is None or next(parent.iter("rule"), None) is None
        self._value: dict[str, str] | None = None

    def get(self, ctx: RuleContext) -> dict[str, str]:
        if not self.static:
            return nvsets(self.parent, self.set_tag, ctx)
        if self._value is None:
            self._value = nvsets(self.parent, self.set_tag, ctx)
        return self._value
