"""Call-ids that keep growing when the executor restarts.

Each operation result carries a call-id, and a node's records are ordered by
it: the scheduler takes a resource's newest record as its state, and the
cib-store refuses a record with a lower call-id than the one it holds (a write
retried after a lost answer must not undo the stop that followed it). A
restarted executor that counted from 1 again had its new records refused and
misordered behind the old process's: the CIB showed a resource it had just
started as stopped, for good. So the counter is kept on disk, in blocks (one
write per :data:`BLOCK` calls), and never starts below the seconds since
:data:`EPOCH`, which covers a node whose state directory was lost.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

#: Call-ids reserved per write of the counter file.
BLOCK = 1000
#: 2025-01-01T00:00:00Z: the floor counts seconds from here (and stays below 2**31 until 2093).
EPOCH = 1_735_689_600


class CallIds:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = path
        saved = 0
        with contextlib.suppress(OSError, ValueError):
            saved = int(path.read_text().strip() or 0)
        self._next = max(saved, int(clock()) - EPOCH, 0) + 1
        self._reserved = self._next - 1

    def __next__(self) -> int:
        call_id = self._next
        self._next += 1
        if call_id > self._reserved:
            self._reserved = call_id + BLOCK
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text(f"{self._reserved}\n")
        return call_id
