"""The watchdog's countdown, its pet, and the reset it does (on processes this test starts)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from paceline.membership import watchdog
from paceline.shared.pidfiles import LAB_DIR_ENV


def _of_node(state_dir: Path) -> subprocess.Popen:
    """A process as the node starts them: its environment names the node's directory."""
    return subprocess.Popen(["sleep", "60"], env={**os.environ, "HA_RSCTMP": str(state_dir / "run")})


def test_the_countdown_is_armed_by_the_first_pet() -> None:
    c = watchdog.Countdown(timeout=2.0)
    assert not c.expired(100.0)  # never petted: not armed
    c.pet(100.0)
    assert not c.expired(101.9)
    assert c.expired(102.1)
    c.pet(102.0)
    assert not c.expired(103.9)


def test_a_reset_kills_the_node_and_its_resources_and_wipes_run(tmp_path: Path) -> None:
    service = _of_node(tmp_path)
    resource = _of_node(tmp_path)
    (tmp_path / "run" / "agent").mkdir(parents=True)
    (tmp_path / "run" / "agent" / "web.pid").write_text(f"{resource.pid}\n")
    (tmp_path / "run" / "Dummy-x.state").write_text("x")
    (tmp_path / watchdog.PIDS).write_text(f"{service.pid}\n")
    try:
        killed = watchdog.reset(tmp_path)
        assert sorted(killed) == sorted([service.pid, resource.pid])
        assert service.wait(5) == -9 and resource.wait(5) == -9
        assert not (tmp_path / "run").exists()
    finally:
        for proc in (service, resource):
            proc.kill()


def test_a_recycled_pid_is_left_alone(tmp_path: Path, monkeypatch) -> None:
    """A listed pid or a pid file outlives its process; the pid may since be anybody's (another lab's
    nats-server, say). Only a process that names the node's directory, or the lab's, is the node's."""
    lab = tmp_path / "lab"
    node = lab / "nodes" / "n1"
    stranger = subprocess.Popen(["sleep", "60"], env={k: v for k, v in os.environ.items() if k != LAB_DIR_ENV})
    neighbour = _of_node(tmp_path / "lab2" / "nodes" / "n1")  # another lab, whose path starts as this one's
    server = subprocess.Popen(["sleep", "60"], env={**os.environ, LAB_DIR_ENV: str(lab)})  # its bus server
    (node / "run").mkdir(parents=True)
    (node / "run" / "old.pid").write_text(f"{stranger.pid}\n")
    (node / watchdog.PIDS).write_text(f"{neighbour.pid}\n{server.pid}\n")
    monkeypatch.setenv(LAB_DIR_ENV, str(lab))
    try:
        assert watchdog.reset(node) == [server.pid]
        assert stranger.poll() is None and neighbour.poll() is None
    finally:
        for proc in (stranger, neighbour, server):
            proc.kill()


def test_the_process_resets_when_the_pets_stop(tmp_path: Path) -> None:
    victim = _of_node(tmp_path)
    (tmp_path / watchdog.PIDS).write_text(f"{victim.pid}\n")
    dog = subprocess.Popen([sys.executable, "-m", "paceline.membership.watchdog", "--state-dir", str(tmp_path),
                            "--timeout", "0.5"], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / watchdog.SOCKET).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        for _ in range(10):  # petted: nothing happens
            assert watchdog.pet(tmp_path)
            time.sleep(0.1)
        assert victim.poll() is None
        started = time.monotonic()
        assert dog.wait(10) == 0  # pets stopped: the reset, then the watchdog is done
        assert time.monotonic() - started < 2.0
        assert victim.wait(5) == -9
        assert not watchdog.pet(tmp_path)  # nobody listens any more
    finally:
        victim.kill()
        dog.kill()
