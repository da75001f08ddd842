"""The process runner: deadlines, whole-group kills, output capture."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from paceline.executor import process


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


async def test_output_and_exit_status_are_captured(tmp_path):
    agent = _script(tmp_path, "talk", 'echo out-$FOO; echo err >&2; exit 3\n')
    done = await process.run([str(agent)], {"FOO": "bar", "PATH": os.environ["PATH"]}, timeout=5)
    assert (done.returncode, done.stdout, done.stderr, done.timed_out) == (3, "out-bar\n", "err\n", False)


async def test_timeout_kills_the_whole_group_even_when_sigterm_is_ignored(tmp_path):
    pids = tmp_path / "pids"
    agent = _script(tmp_path, "hang", f"""
trap '' TERM
sleep 30 &
echo $! >> {pids}
( trap '' TERM; while :; do sleep 1; done ) &
echo $! >> {pids}
echo $$ >> {pids}
wait
""")
    started = time.monotonic()
    done = await process.run([str(agent)], {"PATH": os.environ["PATH"]}, timeout=0.5, grace=0.3)
    elapsed = time.monotonic() - started
    assert done.timed_out and done.returncode is None
    assert elapsed < 3, elapsed
    recorded = [int(p) for p in pids.read_text().split()]
    assert len(recorded) == 3
    assert [p for p in recorded if _alive(p)] == []


async def test_a_daemon_holding_stdout_does_not_delay_the_agent(tmp_path):
    """The agent's own exit ends the operation, not the EOF of a pipe a daemon inherited."""
    pid_file = tmp_path / "daemon.pid"
    agent = _script(tmp_path, "spawn", f"setsid sleep 30 & echo $! > {pid_file}; exit 0\n")
    started = time.monotonic()
    done = await process.run([str(agent)], {"PATH": os.environ["PATH"]}, timeout=10)
    try:
        assert done.returncode == 0
        assert time.monotonic() - started < 2
    finally:
        os.kill(int(pid_file.read_text()), 9)


async def test_cancellation_kills_the_agent(tmp_path):
    pid_file = tmp_path / "pid"
    agent = _script(tmp_path, "slow", f"echo $$ > {pid_file}; exec sleep 30\n")
    task = asyncio.create_task(process.run([str(agent)], {"PATH": os.environ["PATH"]}, timeout=30))
    while not pid_file.exists() or not pid_file.read_text().strip():
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not _alive(int(pid_file.read_text()))


async def test_missing_executable_raises_spawn_error(tmp_path):
    with pytest.raises(process.SpawnError):
        await process.run([str(tmp_path / "nope")], {}, timeout=1)
