"""Pacemaker's spelling of plain values in the CIB: booleans, integers and renamed cluster options.

Scores live in :mod:`.scores`, durations and dates in :mod:`.timespec`.
"""

from __future__ import annotations

import re

#: Cluster options renamed by Pacemaker: new name -> old names still accepted.
OPTION_ALIASES: dict[str, tuple[str, ...]] = {
    "fencing-enabled": ("stonith-enabled",),
    "fencing-action": ("stonith-action",),
    "fencing-timeout": ("stonith-timeout",),
    "fencing-max-attempts": ("stonith-max-attempts",),
    "fencing-watchdog-timeout": ("stonith-watchdog-timeout",),
    "fencing-reaction": ("stonith-reaction",),
    "stop-removed-resources": ("stop-orphan-resources",),
    "stop-removed-actions": ("stop-orphan-actions",),
}


def is_true(value: str | None, default: bool = False) -> bool:
    """Pacemaker's boolean spelling (true/yes/on/y/1 and the opposites); anything else is ``default``."""
    if value is None:
        return default
    v = value.strip().lower()
    if v in ("true", "yes", "on", "y", "1"):
        return True
    if v in ("false", "no", "off", "n", "0"):
        return False
    return default


def fold_option_aliases(options: dict[str, str]) -> None:
    """Give each renamed option its new name too, so both spellings of a CIB read the same."""
    for new, olds in OPTION_ALIASES.items():
        if new not in options:
            for old in olds:
                if old in options:
                    options[new] = options[old]
                    break


#: Pacemaker reads integers with strtoll: optional blanks and sign, then ASCII digits (not Python's wider idea
#: of a digit: int() would take "\u0663", "1_000" and, above 4,300 digits, raise).
_LEADING_INTEGER = re.compile(r"\s*([+-]?)0*([0-9]+)", re.ASCII)
_WHOLE_INTEGER = re.compile(r"\s*([+-]?)0*([0-9]+)\s*\Z", re.ASCII)
#: strtoll's range: a longer number is clipped to it, as Pacemaker clips it.
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _clipped(sign: str, digits: str, lo: int, hi: int) -> int:
    """The number ``sign digits`` within [lo, hi], without converting more digits than any bound has."""
    if len(digits) > 19:      # beyond 64 bits whatever the digits: never hand int() 5,000 of them
        return lo if sign == "-" else hi
    value = -int(digits) if sign == "-" else int(digits)
    return max(lo, min(hi, value))


def leading_int(text: str | None, default: int | None = None, lo: int = INT64_MIN,
                hi: int = INT64_MAX) -> int | None:
    """The integer ``text`` starts with, as strtoll reads it ("5abc" is 5), clipped to [lo, hi];
    ``default`` when it starts with no digits."""
    if text is None:
        return default
    m = _LEADING_INTEGER.match(text)
    return default if m is None else _clipped(m.group(1), m.group(2), lo, hi)


def whole_int(text: str | None, default: int | None = None, lo: int = INT64_MIN,
              hi: int = INT64_MAX) -> int | None:
    """``text`` as an integer when it is nothing else (blanks aside), clipped to [lo, hi]; else ``default``."""
    if text is None:
        return default
    if 0 < len(text) < 19 and text.isascii() and text.isdigit():   # the usual case, without a regex
        return max(lo, min(hi, int(text)))
    m = _WHOLE_INTEGER.match(text)
    return default if m is None else _clipped(m.group(1), m.group(2), lo, hi)


def shown(value: str, limit: int = 80) -> str:
    """A CIB value quoted for a one-line message: a 5,000-digit value is shortened, with its length said."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"
