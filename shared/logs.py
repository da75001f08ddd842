"""structlog setup shared by every service: JSON for machines, console for people, always timestamped."""

from __future__ import annotations

import logging
import sys

import structlog


def setup(service: str, fmt: str = "console", level: str = "info", node: str = "") -> structlog.BoundLogger:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer = (structlog.processors.JSONRenderer() if fmt == "json"
                else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
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
