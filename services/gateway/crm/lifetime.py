"""ISO 8601 durations for ``resource migrate/ban ... LIFETIME`` (``PT1H``, ``P1D``, ``P1Y2M``)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_duration(text: str) -> tuple[int, timedelta] | None:
    """(months, rest) of an ISO 8601 duration; None when ``text`` is not one."""
    m = _DURATION.match(text)
    if not m or text in ("P", "PT") or text.endswith("T"):
        return None
    y, mo, w, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return y * 12 + mo, timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s)


def add_duration(start: datetime, duration: tuple[int, timedelta]) -> datetime:
    months, rest = duration
    if months:
        month0 = start.month - 1 + months
        year, month = start.year + month0 // 12, month0 % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        start = start.replace(year=year, month=month, day=day)
    return start + rest


def expiry(duration: tuple[int, timedelta], now: datetime | None = None) -> str:
    """When a constraint made now with this lifetime ends, as Pacemaker's date expressions spell it."""
    end = add_duration(now or datetime.now(UTC), duration)
    return end.strftime("%Y-%m-%d %H:%M:%S +00:00")
