"""A lab cluster of real processes (embedded nats-server, every service) for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from paceline.lab.story import paceline_argv


class LabRunner:
    def __init__(self, directory: Path):
        self.dir = directory

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PACELINE_LAB"] = str(self.dir)
        env.pop("PACELINE_NATS_URL", None)
        return env

    def paceline(self, *words: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(paceline_argv() + list(words), capture_output=True, text=True, env=self.env(),
                              timeout=timeout)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[LabRunner]:
    runner = LabRunner(tmp_path_factory.mktemp("lab"))
    up = runner.paceline("lab", "up", "--nodes", "primary,secondary", "--dir", str(runner.dir), timeout=120)
    if up.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in (runner.dir / "logs").glob("*.log"))
        runner.paceline("lab", "down", "--dir", str(runner.dir))
        pytest.fail(f"lab up failed: {up.stdout}{up.stderr}\n{logs}")
    try:
        yield runner
    finally:
        runner.paceline("lab", "down", "--dir", str(runner.dir))


__all__ = ["LabRunner", "lab", "sys"]
