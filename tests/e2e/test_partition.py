"""A network partition in the netns lab: the minority stops its resources, the majority recovers them.

Three nodes, each in its own network namespace, fencing off (no watchdogs,
``stonith-enabled=false``, the default ``no-quorum-policy=stop``). The node
running the resource is cut off from the others (its port on the lab bridge
goes down; its own services and bus server run on). As Pacemaker does, the
majority (two of three, quorate) starts the resource on one of its nodes, and
the isolated node, alone and without quorum, stops its copy. Once healed, the
node rejoins and the resource runs exactly once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from paceline.lab.lab import Lab
from paceline.lab.story import paceline_argv
from paceline.shared import bus
from paceline.shared.messages import PolicyStatus, PolicyStatusQuery
from paceline.shared.subjects import Subjects

from tests.support.wait import until

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the netns lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the netns lab needs 'ip' (Debian package iproute2)"),
]

NODES = ["n1", "n2", "n3"]
RSC = "part"


def paceline(lab: Lab, *words: str) -> str:
    done = subprocess.run([*paceline_argv(), *words], env={**os.environ, "PACELINE_LAB": str(lab.dir)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"paceline {' '.join(words)}: {done.stderr}"
    return done.stdout


def copies(lab: Lab) -> list[str]:
    """Where the resource runs, from the agent's own state files (not the CIB)."""
    return [n for n in NODES if (lab.node_dir(n) / "run" / f"Dummy-{RSC}.state").exists()]


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    lab = Lab(dir=Path(tmp_path_factory.mktemp("partition")), cluster=f"p{os.getpid()}")
    lab.watchdog_timeout = 0.0
    lab.up(NODES, timeout=60, with_netns=True)
    try:
        yield lab
    finally:
        lab.down()


def copies_of_the_cib(lab: Lab) -> set[str]:
    """The configuration versions (admin_epoch.epoch) the nodes' policy instances would plan from."""
    async def ask() -> set[str]:
        nc = await lab.connect("observer")
        try:
            replies = [await bus.call(nc, Subjects(lab.cluster).policy_status(node), PolicyStatusQuery(),
                                      PolicyStatus) for node in NODES]
        finally:
            await nc.close()
        return {reply.cib_copy.rsplit(".", 1)[0] for reply in replies}

    return asyncio.run(ask())


def test_the_isolated_node_stops_its_copy_and_the_majority_starts_one(lab: Lab):
    paceline(lab, "configure", "property", "stonith-enabled=false")
    paceline(lab, "configure", "primitive", RSC, "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
    until(lambda: len(copies(lab)) == 1, "the resource started", 30)
    (holder,) = copies(lab)
    # A node that runs something has its configuration (as every Pacemaker node holds the CIB): the copy
    # an isolated node plans from must define what it runs, so wait until every policy instance's does.
    until(lambda: len(copies_of_the_cib(lab)) == 1, "every node holds the newest configuration", 20)
    lab.isolate(holder)
    try:
        elsewhere = until(lambda: [n for n in copies(lab) if n != holder], "the majority started it", 20)
        assert len(elsewhere) == 1
        until(lambda: holder not in copies(lab), "the isolated node stopped its copy (no quorum)", 20)
    finally:
        lab.isolate(holder, heal=True)
    until(lambda: f"Online: [ {' '.join(NODES)} ]" in paceline(lab, "status"), "the node rejoined", 30)
    until(lambda: len(copies(lab)) == 1, "one copy", 20)
