"""Interval and date parsing the way CIB values are written (``10s``, ``PT1M``, ``2005-020T12:30``)."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone

from paceline.shared.cluster.values import leading_int

_UNITS_MS = {"": 1000, "s": 1000, "sec": 1000, "ms": 1, "msec": 1, "m": 60_000, "min": 60_000,
             "h": 3_600_000, "hr": 3_600_000, "us": 0, "usec": 0}
_INTERVAL = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$", re.I | re.ASCII)
#: ISO 8601 durations; "T" may be left out where nothing is ambiguous (P10S is ten seconds; "M" before a "T"
#: is months).
_ISO_DURATION = re.compile(
    r"^P(?=T?\d)(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"T?(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?$", re.I | re.ASCII)
#: Longer than this is no duration anyone writes (and a 5,000-digit number costs more than it is worth).
_MAX_DURATION_TEXT = 64
#: Durations repeat across a large CIB ("10s", "20s", "0" on thousands of ops): each text is parsed once. Bounded,
#: as a long-lived DC reads many CIBs.
_DURATION_CACHE = 4096


@functools.lru_cache(maxsize=_DURATION_CACHE)
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


#: Pacemaker keeps an operation's interval and timeout in milliseconds in 32 bits: a longer one is clipped to this.
MAX_OP_MS = 2**32 - 1
_LONG_NUMBER = re.compile(r"^\s*0*([0-9]+)\s*([a-z]*)\s*$", re.I | re.ASCII)
_LONG_DIGITS = re.compile(r"[0-9]{11}", re.ASCII)


@functools.lru_cache(maxsize=_DURATION_CACHE)
def parse_op_ms(text: str) -> int | None:
    """Milliseconds of an operation's interval or timeout, clipped to :data:`MAX_OP_MS` as Pacemaker clips
    them (a 5,000-digit interval is the longest one, not an error); None when ``text`` is no duration."""
    m = _LONG_NUMBER.match(text)
    if m is not None and len(m.group(1)) > 15 and m.group(2).lower() in _UNITS_MS:
        return MAX_OP_MS          # more than 49 days in any unit: never hand int() all those digits
    if _ISO_DURATION.match(text.strip()) and _LONG_DIGITS.search(text):
        return None               # Pacemaker's ISO 8601 parser refuses such a field ("not a valid time unit")
    parsed = parse_interval_ms(text)
    return None if parsed is None else min(parsed, MAX_OP_MS)


def interval_ms(text: str | None) -> int:
    """Milliseconds of an op interval/timeout; unparsable values count as 0 like Pacemaker does."""
    if not text:
        return 0
    parsed = parse_interval_ms(text)
    return 0 if parsed is None else parsed


#: 9999-12-31 23:59:59 UTC: the last second Python's dates (and crm_simulate's 4-digit years) can show.
LAST_EPOCH = 253_402_300_799
_DATE_FORMS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
               "%Y-%m-%d", "%Y-%jT%H:%M:%S", "%Y-%jT%H:%M", "%Y-%j", "%Y-%m-%dT%H:%M:%SZ",
               "%Y-%m-%d %H:%M:%SZ")


def parse_datetime(text: str) -> float:
    """Epoch seconds (UTC) of an ISO 8601 date as crm_simulate -t and date rules accept it."""
    raw = text.strip()
    if re.fullmatch(r"[0-9]{9,}", raw):
        if len(raw) > 12 or int(raw) > LAST_EPOCH:   # nothing can print or compute with it as a date
            raise ValueError(f"invalid date/time {text[:40]!r}: beyond the year 9999")
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
    """Add a <duration> (years, months, weeks, days, hours, minutes, seconds) to a time.

    A field that is no number counts as 0; a sum beyond the calendar (year 9999) is forever (``inf``), so a
    date rule with an absurd duration never ends rather than making every plan raise."""
    amounts = {name: leading_int(fields.get(name), 0, -(10**12), 10**12) or 0
               for name in ("years", "months", "weeks", "days", "hours", "minutes", "seconds")}
    try:
        dt = datetime.fromtimestamp(epoch, UTC)
        months = amounts["years"] * 12 + amounts["months"]
        if months:
            y, mo = divmod(dt.month - 1 + months, 12)
            year, month = dt.year + y, mo + 1
            import calendar  # on use: only a duration in months or years needs it (it loads locale)

            day = min(dt.day, calendar.monthrange(year, month)[1])
            dt = dt.replace(year=year, month=month, day=day)
        dt += timedelta(weeks=amounts["weeks"], days=amounts["days"], hours=amounts["hours"],
                        minutes=amounts["minutes"], seconds=amounts["seconds"])
        return dt.timestamp()
    except (ValueError, OverflowError, OSError):
        backwards = all(v <= 0 for v in amounts.values())
        return float("-inf") if backwards else float("inf")
