"""structlog setup shared by every service: JSON for machines, console for people, always timestamped.

Under systemd a service's stderr is the journal. journald reads a ``<N>`` prefix
on a line as that line's syslog priority (sd-daemon(3)), so when stderr is the
journal (``$JOURNAL_STREAM`` names its device and inode) every line gets its
level's priority: ``journalctl -p err`` and the red lines show errors as errors.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import IO, Any

import structlog

#: structlog's method names -> syslog priorities (sd-daemon(3)'s SD_ERR etc.).
PRIORITIES = {"critical": 2, "exception": 3, "error": 3, "warning": 4, "warn": 4, "info": 6, "debug": 7}


def writes_to_journal(stream: IO[Any] | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Whether ``stream`` (stderr) is the journal's stream: ``$JOURNAL_STREAM`` is ``DEVICE:INODE`` of it.
    Checked, not assumed: a child that inherits the variable but writes elsewhere must not get prefixes."""
    value = (os.environ if env is None else env).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    try:
        st = os.fstat((stream or sys.stderr).fileno())
        return bool(value) and (st.st_dev, st.st_ino) == (int(device), int(inode))
    except (ValueError, OSError, AttributeError):
        return False


def journal_priority(_logger: Any, method_name: str, rendered: Any) -> str:
    """The last processor under journald: every line of a rendered entry prefixed with ``<priority>``."""
    priority = PRIORITIES.get(method_name, 6)
    return "\n".join(f"<{priority}>{line}" for line in str(rendered).split("\n"))


def setup(service: str, fmt: str = "console", level: str = "info", node: str = "") -> structlog.BoundLogger:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer = (structlog.processors.JSONRenderer() if fmt == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        renderer,
    ]
    if writes_to_journal():
        processors.append(journal_priority)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    log = structlog.get_logger().bind(service=service)
    return log.bind(node=node) if node else log


class Sparse:
    """One log line per key per ``every`` seconds: a flood of bad or dropped messages must not become a flood
    of log lines (their counters count every one)."""

    def __init__(self, every: float = 10.0):
        self.every = every
        self._last: dict[object, float] = {}
        self._quiet: dict[object, int] = {}

    def due(self, key: object) -> int | None:
        """None while a line for ``key`` was logged less than ``every`` seconds ago (the event is counted as
        unlogged); else how many went unlogged since that line."""
        import time

        now = time.monotonic()
        if now - self._last.get(key, -1e18) < self.every:
            self._quiet[key] = self._quiet.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._quiet.pop(key, 0)
