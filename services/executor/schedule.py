"""The recurring operations of this node, kept on disk so that a restarted executor resumes them.

Pacemaker's executor forgets its monitors when it restarts and waits for the
DC to ask again. Paceline keeps the schedule in the state directory instead:
on start the executor probes each resource once (is it still running after
all?) and resumes the monitors of those that are, so watching never pauses
while a node's executor is upgraded or restarted.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import structlog
from paceline.executor.operation import Operation
from paceline.shared import codec

log = structlog.get_logger()


class ScheduleStore:
    def __init__(self, path: Path):
        self.path = path

    def save(self, ops: list[Operation]) -> None:
        """Replace the file atomically, so a crash mid-write leaves the previous schedule."""
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps([op.to_body() for op in ops], indent=1))
            tmp.replace(self.path)

    def load(self) -> list[Operation]:
        """The saved operations; an unreadable file or entry is logged and skipped, never fatal."""
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable recurring schedule", path=str(self.path), error=str(exc))
            return []
        ops = []
        for body in raw if isinstance(raw, list) else []:
            try:
                ops.append(Operation.from_body(body))
            except (codec.MalformedMessage, TypeError) as exc:
                log.warning("ignoring a bad recurring schedule entry", error=str(exc))
        return ops
