"""The watchdog's countdown, its pet, and the reset it does (on processes this test starts)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from paceline.membership import watchdog


def test_the_countdown_is_armed_by_the_first_pet() -> None:
    c = watchdog.Countdown(timeout=2.0)
    assert not c.expired(100.0)  # never petted: not armed
    c.pet(100.0)
    assert not c.expired(101.9)
    assert c.expired(102.1)
    c.pet(102.0)
    assert not c.expired(103.9)


def test_a_reset_kills_the_node_and_its_resources_and_wipes_run(tmp_path: Path) -> None:
    service = subprocess.Popen(["sleep", "60"])
    resource = subprocess.Popen(["sleep", "60"])
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


def test_the_process_resets_when_the_pets_stop(tmp_path: Path) -> None:
    victim = subprocess.Popen(["sleep", "60"])
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
