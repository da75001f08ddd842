"""Interval and date parsing the way CIB values are written (``10s``, ``PT1M``, ``2005-020T12:30``)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone

_UNITS_MS = {"": 1000, "s": 1000, "sec": 1000, "ms": 1, "msec": 1, "m": 60_000, "min": 60_000,
             "h": 3_600_000, "hr": 3_600_000, "us": 0, "usec": 0}
_INTERVAL = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$", re.I)
#: ISO 8601 durations; "T" may be left out where nothing is ambiguous (P10S is ten seconds; "M" before a "T"
#: is months).
_ISO_DURATION = re.compile(
    r"^P(?=T?\d)(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"T?(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?$", re.I)
#: Longer than this is no duration anyone writes (and a 5,000-digit number costs more than it is worth).
_MAX_DURATION_TEXT = 64


def parse_interval_ms(text: str) -> int | None:
    """Milliseconds of a Pacemaker duration (``10s``, ``500ms``, ``5min``, ``PT1M``); None when it is not one."""
    text = text.strip()
    if len(text) > _MAX_DURATION_TEXT:
        return None
    m = _ISO_DURATION.match(text)
    if m:
        parts = {k: int(v or 0) for k, v in m.groupdict().items()}
        secs = (((parts["y"] * 365 + parts["mo"] * 30 + parts["w"] * 7 + parts["d"]) * 24 + parts["h"]) * 60
                + parts["mi"]) * 60 + parts["s"]
        return secs * 1000
    m = _INTERVAL.match(text)
    if not m or m.group(2).lower() not in _UNITS_MS:
        return None
    return int(m.group(1)) * _UNITS_MS[m.group(2).lower()]


def interval_ms(text: str | None) -> int:
    """Milliseconds of an op interval/timeout; unparsable values count as 0 like Pacemaker does."""
    if not text:
        return 0
    parsed = parse_interval_ms(text)
    return 0 if parsed is None else parsed


_DATE_FORMS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
               "%Y-%m-%d", "%Y-%jT%H:%M:%S", "%Y-%jT%H:%M", "%Y-%j", "%Y-%m-%dT%H:%M:%SZ",
               "%Y-%m-%d %H:%M:%SZ")


def parse_datetime(text: str) -> float:
    """Epoch seconds (UTC) of an ISO 8601 date as crm_simulate -t and date rules accept it."""
    raw = text.strip()
    if re.fullmatch(r"\d{9,}", raw):
        return float(raw)
    candidate = raw
    tz = UTC
    m = re.search(r"([+-]\d{2}):?(\d{2})$", candidate)
    if m and ("T" in candidate or " " in candidate):
        sign = 1 if m.group(1)[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(m.group(1)[1:]), minutes=int(m.group(2))))
        candidate = candidate[:m.start()].strip()
    candidate = candidate.rstrip("Z")
    for form in _DATE_FORMS:
        try:
            dt = datetime.strptime(candidate, form.rstrip("Z"))
        except ValueError:
            continue
        return dt.replace(tzinfo=tz).timestamp()
    raise ValueError(f"invalid date/time {text!r}")


def format_datetime(epoch: float) -> str:
    """How crm_simulate prints the effective date (``2019-10-22 20:53:06Z``)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def add_duration(epoch: float, fields: dict[str, str]) -> float:
    """Add a <duration> (years, months, weeks, days, hours, minutes, seconds) to a time."""
    dt = datetime.fromtimestamp(epoch, UTC)
    months = int(fields.get("years", 0) or 0) * 12 + int(fields.get("months", 0) or 0)
    if months:
        y, mo = divmod(dt.month - 1 + months, 12)
        year, month = dt.year + y, mo + 1
        day = min(dt.day, calendar.monthrange(year, month)[1])
        dt = dt.replace(year=year, month=month, day=day)
    dt += timedelta(weeks=int(fields.get("weeks", 0) or 0), days=int(fields.get("days", 0) or 0),
                    hours=int(fields.get("hours", 0) or 0), minutes=int(fields.get("minutes", 0) or 0),
                    seconds=int(fields.get("seconds", 0) or 0))
    return dt.timestamp()
