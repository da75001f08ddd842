"""Run one agent process with a deadline, and never leave any of its processes behind on timeout.

The agent gets its own session (hence its own process group) so that a timeout
can signal everything it forked at once: SIGTERM to the group, a short grace,
then SIGKILL to the group. Output goes to temporary files rather than pipes,
because an agent that starts a daemon which inherits its stdout would otherwise
keep the pipe open and make us wait for the daemon instead of the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

#: Seconds between SIGTERM and SIGKILL when an operation times out.
KILL_GRACE = 1.0
#: Output beyond this many bytes per stream is dropped; agents can be chatty.
MAX_OUTPUT = 256 * 1024


@dataclass(frozen=True)
class ProcessOutcome:
    returncode: int | None  # None when the process had to be killed at its deadline
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool = False


class SpawnError(OSError):
    """The executable could not be started at all (missing, not executable, bad interpreter)."""


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc.

    Signal 0 cannot tell a zombie from a live process, and an orphaned zombie
    whose new parent never reaps it would make a kill loop wait forever.
    """
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


async def _kill_group(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM the whole group, give it ``grace`` seconds, then SIGKILL whatever is left."""
    pgid = proc.pid  # start_new_session makes the child its group leader
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), grace)
    # The leader may be gone while children that ignored SIGTERM linger in the group.
    while group_members(pgid) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)
    await proc.wait()
    deadline = time.monotonic() + 2.0  # SIGKILL cannot be ignored; this only waits for the kernel
    while group_members(pgid) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


def _read(f: IO[bytes]) -> str:
    f.seek(0)
    return f.read(MAX_OUTPUT).decode(errors="replace")


async def run(argv: Sequence[str], env: Mapping[str, str], timeout: float,
              cwd: str | None = None, grace: float = KILL_GRACE, stdin: bytes | None = None) -> ProcessOutcome:
    """Run ``argv`` to completion or until ``timeout`` seconds pass; cancellation also kills the group.

    ``stdin`` (fence agents read their arguments there) is given through a file, like the output.
    """
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, contextlib.ExitStack() as stack:
        given: IO[bytes] | int = asyncio.subprocess.DEVNULL
        if stdin is not None:
            given = stack.enter_context(tempfile.TemporaryFile())
            given.write(stdin)
            given.seek(0)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, env=dict(env), cwd=cwd, stdin=given, stdout=out, stderr=err, start_new_session=True)
        except OSError as exc:
            raise SpawnError(exc.errno, f"cannot execute {argv[0]}: {exc.strerror}") from None
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
            await _kill_group(proc, grace)
        except asyncio.CancelledError:
            await asyncio.shield(_kill_group(proc, 0.0))
            raise
        return ProcessOutcome(returncode=None if timed_out else proc.returncode, stdout=_read(out),
                              stderr=_read(err), elapsed=time.monotonic() - started, timed_out=timed_out)
