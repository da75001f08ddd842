"""The pid files resource agents keep under a node's run directory (``HA_RSCTMP``): what runs there.

Read by the lab (a crash kills a node's resources) and by the watchdog (a reset kills them): one reading,
so both kill the same processes. And the check both make before they signal a pid they recorded or read:
a pid is recycled once its process is gone (the kernel's ``pid_max`` is 32768 on many machines), as like
as not for another lab's nats-server or service, which a signal must never reach.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

#: Set in the environment of every process a lab starts (so inherited by all they start): the lab's directory.
LAB_DIR_ENV = "PACELINE_LAB_DIR"


def pids_under(run_dir: Path) -> list[int]:
    """The first number of every ``*.pid`` file below ``run_dir``; unreadable or empty files are skipped."""
    pids = []
    for pid_file in run_dir.glob("**/*.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            pids.append(int(pid_file.read_text().split()[0]))
    return pids


def _names_path_under(entry: bytes, marks: list[bytes]) -> bool:
    """Whether one argument or environment entry (``KEY=VALUE``, ``--opt=VALUE``) is a path at or below a mark."""
    return any(value == mark or value.startswith(mark + b"/")
               for value in (entry, entry.partition(b"=")[2]) for mark in marks)


def started_for(pid: int, roots: Iterable[Path]) -> bool:
    """Whether the process ``pid`` was started for one of ``roots`` (a lab's or a node's directory, absolute):
    an argument of its command line or a value of its environment is a path at or below one. Every process
    a lab starts names its state directory or store, or carries :data:`LAB_DIR_ENV`; an agent's processes
    inherit ``HA_RSCTMP``. An unrelated process (a recycled pid) names none, and a process whose
    environment this user may not read is not ours."""
    marks = [str(root).rstrip("/").encode() for root in roots]
    for part in ("cmdline", "environ"):
        with contextlib.suppress(OSError):
            entries = Path(f"/proc/{pid}/{part}").read_bytes().split(b"\0")
            if any(_names_path_under(entry, marks) for entry in entries):
                return True
    return False
