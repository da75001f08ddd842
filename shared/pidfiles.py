"""The pid files resource agents keep under a node's run directory (``HA_RSCTMP``): what runs there.

Read by the lab (a crash kills a node's resources) and by the watchdog (a reset kills them): one reading,
so both kill the same processes.
"""

from __future__ import annotations

import contextlib
from pathlib import Path


def pids_under(run_dir: Path) -> list[int]:
    """The first number of every ``*.pid`` file below ``run_dir``; unreadable or empty files are skipped."""
    pids = []
    for pid_file in run_dir.glob("**/*.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            pids.append(int(pid_file.read_text().split()[0]))
    return pids
