"""A lab cluster of real processes (embedded nats-server, every service) for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from paceline.lab.story import paceline_argv

from tests.e2e.cli_helpers import walk
from tests.support.wait import until

NODES = ("primary", "secondary")
R = TypeVar("R", bound="LabRunner")
#: Waits are generous for slow CI machines; conditions usually hold within a few seconds.
PATIENCE = 30.0
#: How often a wait looks again.
POLL = 0.2


class LabRunner:
    """Runs ``paceline`` commands against the lab in ``directory``."""

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


class FailureLab(LabRunner):
    """A lab with per-node extra OCF roots (test agents installed on some nodes only) and a control folder
    through which a test tells its agent to misbehave."""

    def __init__(self, directory: Path):
        super().__init__(directory)
        self.ctl = directory / "ctl"
        self.extra = directory / "extra"

    def env(self) -> dict[str, str]:
        env = super().env()
        env["PACELINE_EXTRA_OCF_ROOTS"] = str(self.extra / "{node}")
        return env

    def install(self, name: str, text: str, nodes: tuple[str, ...] = NODES) -> None:
        for node in nodes:
            path = self.extra / node / "resource.d" / "test" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o755)

    def crm(self, *words: str) -> str:
        done = self.paceline(*words)
        assert done.returncode == 0, f"paceline {' '.join(words)}: {done.stdout}{done.stderr}"
        return done.stdout

    def status(self) -> dict[str, Any]:
        return json.loads(self.crm("status", "--output-as", "json"))

    def resource(self, rsc: str) -> dict[str, Any]:
        return next(r for r in walk(self.status()["resources"]) if r["id"] == rsc)

    def running_on(self, rsc: str) -> list[str]:
        return self.resource(rsc)["active_on"]

    def failcount(self, rsc: str, node: str) -> str:
        return self.crm("resource", "failcount", rsc, "show", node).strip().rsplit("value=", 1)[-1]

    def state_file(self, node: str, rsc: str, agent: str = "Dummy") -> Path:
        return self.dir / "nodes" / node / "run" / f"{agent}-{rsc}.state"

    def primitive(self, rsc: str, agent: str = "ocf:paceline:Dummy", *extra: str, prefer: str = "primary",
                  monitor: tuple[str, ...] = ("interval=1s", "timeout=10s")) -> None:
        self.crm("configure", "primitive", rsc, agent, *extra, "op", "monitor", *monitor)
        self.crm("configure", "location", f"prefer-{rsc}", rsc, f"100: {prefer}")

    def trouble(self, rsc: str, *extra: str, agent: str = "ocf:test:Trouble") -> None:
        """A resource of the controllable test agent, preferring primary."""
        self.primitive(rsc, agent, "params", f"ctl={self.ctl}", *extra)

    def remove(self, *rscs: str) -> None:
        for rsc in rscs:
            self.paceline("resource", "stop", rsc)
        until(lambda: all(not self.running_on(r) for r in rscs), "resources stopped for removal", PATIENCE, POLL)
        self.crm("configure", "delete", *rscs)


@contextlib.contextmanager
def running_lab(runner: R, nodes: tuple[str, ...] = NODES, *options: str) -> Iterator[R]:
    """``paceline lab up`` in the runner's directory (the logs shown if it fails), ``lab down`` after."""
    up = runner.paceline("lab", "up", "--nodes", ",".join(nodes), *options, "--dir", str(runner.dir), timeout=120)
    if up.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in (runner.dir / "logs").glob("*.log"))
        runner.paceline("lab", "down", "--dir", str(runner.dir))
        pytest.fail(f"lab up failed: {up.stdout}{up.stderr}\n{logs}")
    try:
        yield runner
    finally:
        runner.paceline("lab", "down", "--dir", str(runner.dir))


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[LabRunner]:
    with running_lab(LabRunner(tmp_path_factory.mktemp("lab"))) as runner:
        yield runner


__all__ = ["NODES", "PATIENCE", "POLL", "FailureLab", "LabRunner", "lab", "running_lab", "sys"]
