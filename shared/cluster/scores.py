"""Pacemaker score arithmetic: integers clamped to +/-INFINITY where -INFINITY always wins.

Scores are plain ints so that tables stay cheap at 2,000 resources; these helpers
carry the two rules that make them special: parsing is a lenient prefix parse
(``"1.0"`` is 1) and adding anything to -INFINITY stays -INFINITY, even +INFINITY.
"""

from __future__ import annotations

import functools

from paceline.shared.cluster.values import leading_int

INF = 1_000_000

_HEALTH = {"red": -INF, "yellow": 0, "green": 0}


def parse_score(text: str | None, default: int = 0) -> int:
    """Parse like Pacemaker: exact INFINITY spellings, else the leading integer, else ``default``."""
    value = score_or_none(text)
    return default if value is None else value


@functools.lru_cache(maxsize=4096)
def score_or_none(text: str | None) -> int | None:
    """``text`` as a score (INFINITY spellings, health colours, the leading integer, clamped); None when it
    is none of these. Memoized (bounded): a large CIB repeats the same few scores thousands of times."""
    if text is None:
        return None
    if text in ("INFINITY", "+INFINITY"):
        return INF
    if text == "-INFINITY":
        return -INF
    if text in _HEALTH:
        return _HEALTH[text]
    return leading_int(text, None, -INF, INF)   # 5,000 digits are +/-INFINITY too, not an error


def clamp(value: int) -> int:
    return max(-INF, min(INF, value))


def add_scores(a: int, b: int) -> int:
    """-INFINITY dominates, then +INFINITY; otherwise a clamped sum."""
    if a <= -INF or b <= -INF:
        return -INF
    if a >= INF or b >= INF:
        return INF
    total = a + b           # clamp(), inline: this runs for every node of every colocation merge
    return INF if total > INF else -INF if total < -INF else total


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
