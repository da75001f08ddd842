"""Pacemaker score arithmetic: integers clamped to +/-INFINITY where -INFINITY always wins.

Scores are plain ints so that tables stay cheap at 2,000 resources; these helpers
carry the two rules that make them special: parsing is a lenient prefix parse
(``"1.0"`` is 1) and adding anything to -INFINITY stays -INFINITY, even +INFINITY.
"""

from __future__ import annotations

import re

INF = 1_000_000

_PREFIX_INT = re.compile(r"\s*([+-]?\d+)")
_HEALTH = {"red": -INF, "yellow": 0, "green": 0}


def parse_score(text: str | None, default: int = 0) -> int:
    """Parse like Pacemaker: exact INFINITY spellings, else the leading integer, else ``default``."""
    if text is None:
        return default
    if text in ("INFINITY", "+INFINITY"):
        return INF
    if text == "-INFINITY":
        return -INF
    if text in _HEALTH:
        return _HEALTH[text]
    m = _PREFIX_INT.match(text)
    if not m:
        return default
    return clamp(int(m.group(1)))


def clamp(value: int) -> int:
    return max(-INF, min(INF, value))


def add_scores(a: int, b: int) -> int:
    """-INFINITY dominates, then +INFINITY; otherwise a clamped sum."""
    if a <= -INF or b <= -INF:
        return -INF
    if a >= INF or b >= INF:
        return INF
    return clamp(a + b)


def scale(score: int, factor: float) -> int:
    """``score`` times ``factor``, rounded half away from zero (how Pacemaker weighs a colocated
    resource's preference by the colocation's score)."""
    value = score * factor
    return int(value - 0.5) if value < 0 else int(value + 0.5)


def format_score(score: int) -> str:
    if score >= INF:
        return "INFINITY"
    if score <= -INF:
        return "-INFINITY"
    return str(score)
