"""Values Pacemaker would not accept, found before they reach the CIB (and so the scheduler).

:func:`paceline.shared.cib.validate` finds referential problems (unknown ids,
duplicates); this finds bad *values*: an interval that is not a duration or is
absurdly long, a target-role that is no role, a cluster option of the wrong
type, an integer meta attribute that is not an integer, a resource ordered or
colocated with itself. Each problem is one line naming the object, the
attribute and the value. The crm language checks every command's result with
it and the cib-store every write, both refusing only what a write *adds*, so
a CIB stored before these checks existed stays writable.

Pure: no bus, no scheduler.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from paceline.shared import cib
from paceline.shared.cib import Element
from paceline.shared.cluster.option_table import OPTIONS
from paceline.shared.cluster.timespec import parse_interval_ms

#: Pacemaker keeps an operation's interval and timeout in milliseconds in 32 bits.
MAX_OP_MS = 2**32 - 1
_INTEGER = re.compile(r"^\s*[+-]?\d{1,18}\s*$")
#: Pacemaker reads scores (and priorities) leniently: "2.0" is 2.
_SCORE = re.compile(r"^\s*[+-]?(\d{1,18}(\.\d+)?|inf|infinity)\s*$", re.IGNORECASE)
_BOOLEANS = {"true", "false", "yes", "no", "on", "off", "y", "n", "1", "0"}
ROLES = ("stopped", "started", "slave", "master", "unpromoted", "promoted")
ON_FAIL = ("ignore", "block", "stop", "restart", "standby", "fence", "restart-container", "demote")
MULTIPLE_ACTIVE = ("block", "stop_only", "stop_start", "stop_unexpected")
REQUIRES = ("nothing", "quorum", "fencing", "unfencing")
_MAX_VALUE = 4096


def duration_ms(value: str) -> int | None:
    """A Pacemaker duration in milliseconds; None when ``value`` is not one (the scheduler's own reading)."""
    return parse_interval_ms(value)


# ---------------------------------------------------------------- one value

def _time(value: str) -> str | None:
    return None if duration_ms(value) is not None else "not a duration (such as 10s, 5min, 500ms or PT1M)"


def _op_time(value: str) -> str | None:
    ms = duration_ms(value)
    if ms is None:
        return "not a duration (such as 10s, 5min, 500ms or PT1M)"
    if ms > MAX_OP_MS:
        return "too long (an operation's interval and timeout are at most 49 days)"
    return None


def _integer(value: str) -> str | None:
    return None if _INTEGER.match(value) else "not an integer"


def _count(value: str) -> str | None:
    return None if _INTEGER.match(value) and int(value) >= 0 else "not a whole number of 0 or more"


def _score(value: str) -> str | None:
    return None if _SCORE.match(value) else "not a score (an integer, INFINITY or -INFINITY)"


def _boolean(value: str) -> str | None:
    return None if value.strip().lower() in _BOOLEANS else "not a boolean (true or false)"


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value.strip().lower() in choices else f"not one of {', '.join(choices)}"

    return check


def _percentage(value: str) -> str | None:
    return None if re.match(r"^\s*\d{1,3}(\.\d+)?%?\s*$", value) else "not a percentage (such as 80%)"


#: Integer options take ±INFINITY too (node-health-red is -INFINITY by default).
_BY_TYPE: dict[str, Callable[[str], str | None]] = {
    "time": _time, "integer": _score, "boolean": _boolean, "percentage": _percentage, "score": _score}

#: Resource meta attributes Pacemaker reads, with their checks (others are passed through, as Pacemaker does).
RESOURCE_META: dict[str, Callable[[str], str | None]] = {
    "target-role": _one_of(ROLES),
    "is-managed": _boolean, "maintenance": _boolean, "globally-unique": _boolean, "interleave": _boolean,
    "promotable": _boolean, "notify": _boolean, "ordered": _boolean, "critical": _boolean,
    "allow-migrate": _boolean, "allow-unhealthy-nodes": _boolean,
    "resource-stickiness": _score, "migration-threshold": _score, "priority": _score,
    "failure-timeout": _time, "multiple-active": _one_of(MULTIPLE_ACTIVE), "requires": _one_of(REQUIRES),
    "clone-max": _count, "clone-node-max": _count, "clone-min": _count, "promoted-max": _count,
    "promoted-node-max": _count, "master-max": _count, "master-node-max": _count,
}
#: Operation attributes (on ``<op>`` and in op_defaults).
OP_ATTRIBUTES: dict[str, Callable[[str], str | None]] = {
    "interval": _op_time, "timeout": _op_time, "start-delay": _op_time, "on-fail": _one_of(ON_FAIL),
    "role": _one_of(ROLES), "enabled": _boolean, "record-pending": _boolean,
}


def _option_check(name: str) -> Callable[[str], str | None] | None:
    option = OPTIONS.get(name)
    if option is None:
        return None
    if option.type == "select" and option.choices:
        return _one_of(option.choices)
    return _BY_TYPE.get(option.type)


def option_problem(name: str, value: str) -> str | None:
    """Why ``value`` cannot be cluster option ``name`` (None: it can, or the option is not one we know).

    The scheduler asks this of a CIB stored before these checks existed, to use the option's default instead
    of a value Pacemaker would refuse, as Pacemaker does."""
    check = _option_check(name)
    if check is None or value == "#default":
        return None
    return check(value)


# ---------------------------------------------------------------- the CIB

def _bad(where: str, name: str, value: str, check: Callable[[str], str | None] | None) -> Iterator[str]:
    if check is None or value == "#default":  # "#default": as if unset
        return
    if len(value) > _MAX_VALUE:
        yield f"{where}: {name} is {len(value)} characters long (at most {_MAX_VALUE})"
        return
    why = check(value)
    if why:
        yield f"{where}: {name}={value!r} is {why}"


def _nvpairs(parent: Element, path: str) -> Iterator[tuple[str, str]]:
    for nv in parent.iterfind(path):
        name, value = nv.get("name"), nv.get("value")
        if name and value is not None:
            yield name, value


def value_problems(root: Element) -> list[str]:
    """Every value in ``root``'s configuration that Pacemaker would not accept, one line each."""
    out: list[str] = []
    for crm in root.iterfind("configuration/crm_config"):
        for name, value in _nvpairs(crm, "cluster_property_set/nvpair"):
            out += _bad("property", name, value, _option_check(name))
    for name, value in _nvpairs(root, "configuration/rsc_defaults/meta_attributes/nvpair"):
        out += _bad("rsc_defaults", name, value, RESOURCE_META.get(name))
    for name, value in _nvpairs(root, "configuration/op_defaults/meta_attributes/nvpair"):
        out += _bad("op_defaults", name, value, OP_ATTRIBUTES.get(name))
    resources = cib.section(root, "resources", create=False)
    if resources is not None:
        for el in resources.iter("primitive", "group", "clone", "master", "bundle", "template"):
            where = f"{el.tag} {el.get('id')!r}"
            for name, value in _nvpairs(el, "meta_attributes/nvpair"):
                out += _bad(where, name, value, RESOURCE_META.get(name))
            for op in el.iterfind("operations/op"):
                op_where = f"{where}: op {op.get('name') or '?'}"
                for name, check in OP_ATTRIBUTES.items():
                    attr = op.get(name)
                    if attr is not None:
                        out += _bad(op_where, name, attr, check)
    out += _constraint_problems(root)
    return out


def _constraint_problems(root: Element) -> list[str]:
    out: list[str] = []
    cons = cib.section(root, "constraints", create=False)
    if cons is None:
        return out
    for c in cons:
        if not isinstance(c.tag, str):
            continue
        where = f"{c.tag} {c.get('id')!r}"
        score = c.get("score")
        if score is not None:
            out += _bad(where, "score", score, _score)
        pair = {"rsc_colocation": ("rsc", "with-rsc"), "rsc_order": ("first", "then")}.get(c.tag)
        if pair and c.get(pair[0]) is not None and c.get(pair[0]) == c.get(pair[1]):
            what = "colocated with" if c.tag == "rsc_colocation" else "ordered after"
            out.append(f"{where}: {c.get(pair[0])!r} cannot be {what} itself")
        for role_attr in ("rsc-role", "with-rsc-role", "role"):
            role = c.get(role_attr)
            if role is not None:
                out += _bad(where, role_attr, role, _one_of(ROLES))
    return out


def problems(root: Element) -> list[str]:
    """Referential problems (:func:`paceline.shared.cib.validate`) and bad values, one line each."""
    return cib.validate(root) + value_problems(root)


def new_problems(before: Iterable[str], after: Element,
                 find: Callable[[Element], list[str]] = problems) -> list[str]:
    """The problems ``find`` reports in ``after`` that were not among ``before`` (found on the CIB before the
    change, which may have been changed in place since): what a write would add."""
    known = set(before)
    return [p for p in find(after) if p not in known]
