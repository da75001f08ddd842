"""A node whose cluster software hangs (SIGSTOP of its services and its nats-server; its resources run on).

With neither fencing nor watchdogs the survivors start its resources at once, as Pacemaker does; when the
node comes back it must learn that it was declared lost, rejoin, and have the duplicate copy found
(probes) and stopped - not keep both copies running until some unrelated change (issue 11: 140 s before).
With watchdog self-fencing (a lab's default) the hung node resets itself before the survivors, who wait
``stonith-watchdog-timeout``, start anything: never two copies. The resources' own state (the Dummy
agent's state files on each node, sampled every 20 ms) is the witness, not the CIB.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from paceline.lab.lab import Lab, alive

from tests.e2e.conftest import PATIENCE, POLL, FailureLab, running_lab
from tests.support.wait import until

pytestmark = pytest.mark.e2e

NODES = ("a", "b", "c")
PAUSE = 5.0


@pytest.fixture(scope="module")
def lab3(tmp_path_factory) -> Iterator[FailureLab]:
    with running_lab(FailureLab(tmp_path_factory.mktemp("lab3")), NODES, "--no-watchdog") as runner:
        yield runner


@pytest.fixture(scope="module")
def wlab(tmp_path_factory) -> Iterator[FailureLab]:
    with running_lab(FailureLab(tmp_path_factory.mktemp("wlab")), NODES) as runner:
        yield runner


def copies(lab: FailureLab, rsc: str) -> list[str]:
    """The nodes where the resource really runs (its state file exists)."""
    return [n for n in NODES if lab.state_file(n, rsc).exists()]


def test_a_paused_node_rejoins_and_its_duplicate_is_stopped(lab3: FailureLab) -> None:
    lab3.crm("configure", "property", "stonith-enabled=false")
    lab3.primitive("dup", prefer="a", monitor=("interval=2s", "timeout=10s"))
    until(lambda: copies(lab3, "dup") == ["a"] and lab3.running_on("dup") == ["a"], "dup started on a",
          PATIENCE, POLL)
    state = Lab.load(lab3.dir)
    paused_at = time.monotonic()
    state.pause("a")
    try:
        until(lambda: len(copies(lab3, "dup")) == 2, "dup also started elsewhere while a hangs", PATIENCE, POLL)
        time.sleep(max(0.0, PAUSE - (time.monotonic() - paused_at)))
    finally:
        state.pause("a", resume=True)
    resumed = time.monotonic()
    def one_copy() -> bool:
        found = copies(lab3, "dup")
        assert len(found) == 1, f"copies on {found}"
        return True

    until(one_copy, "the duplicate stopped after a came back", PATIENCE, 0.05)
    took = time.monotonic() - resumed
    until(lambda: "Online: [ a b c ]" in lab3.crm("status"), "a online again in the CIB", PATIENCE, POLL)
    until(lambda: lab3.running_on("dup") == copies(lab3, "dup"), "the CIB records the one copy", PATIENCE, POLL)
    print(f"duplicate stopped {took:.2f}s after SIGCONT")


def test_a_hung_node_resets_itself_before_its_resource_starts_elsewhere(wlab: FailureLab) -> None:
    wlab.primitive("solo", prefer="a", monitor=("interval=2s", "timeout=10s"))  # fencing on: the default
    until(lambda: copies(wlab, "solo") == ["a"] and wlab.running_on("solo") == ["a"], "solo started on a",
          PATIENCE, POLL)
    state = Lab.load(wlab.dir)
    most = 0
    paused_at = time.monotonic()
    state.pause("a")
    try:
        while time.monotonic() - paused_at < PAUSE:
            most = max(most, len(copies(wlab, "solo")))
            time.sleep(0.02)
    finally:
        state.pause("a", resume=True)

    def moved() -> bool:
        nonlocal most
        found = copies(wlab, "solo")
        most = max(most, len(found))
        return len(found) == 1 and found != ["a"]

    until(moved, "solo started on a survivor", PATIENCE, 0.02)
    assert most <= 1, "two copies of solo ran at once"
    assert state.watchdog_fired("a")
    revived = wlab.paceline("lab", "revive", "a", "--dir", str(wlab.dir), timeout=120)
    assert revived.returncode == 0, revived.stderr
    until(lambda: "Online: [ a b c ]" in wlab.crm("status"), "a back after its reset", PATIENCE, POLL)


@pytest.fixture(scope="module")
def dlab(tmp_path_factory) -> Iterator[FailureLab]:
    with running_lab(FailureLab(tmp_path_factory.mktemp("dlab")), NODES, "--no-watchdog") as runner:
        yield runner


def test_a_hung_node_is_fenced_by_its_device_before_its_resource_starts_elsewhere(dlab: FailureLab) -> None:
    """A fence device that cuts the power (fence_paceline with nodes_dir) stops a hung node's resources
    with the rest of it: the survivors start them only after that, so never two copies."""
    dlab.crm("configure", "primitive", "fencer", "stonith:fence_paceline", "params", f"hosts={','.join(NODES)}",
             f"state_dir={dlab.dir / 'power'}", f"nodes_dir={dlab.dir / 'nodes'}")
    dlab.primitive("fenced", prefer="a", monitor=("interval=2s", "timeout=10s"))
    until(lambda: copies(dlab, "fenced") == ["a"] and dlab.running_on("fenced") == ["a"], "fenced started on a",
          PATIENCE, POLL)
    state = Lab.load(dlab.dir)
    most, moved_at = 0, None
    paused_at = time.monotonic()
    state.pause("a")
    try:
        while time.monotonic() - paused_at < PAUSE:
            found = copies(dlab, "fenced")
            most = max(most, len(found))
            if moved_at is None and found and found != ["a"]:
                moved_at = time.monotonic()
            time.sleep(0.02)
    finally:
        state.pause("a", resume=True)
    assert most <= 1, "two copies ran at once"
    assert moved_at is not None, "not started elsewhere while a hung"
    assert not any(alive(pid, state.dir) for pid in state.node_pids("a")), "a's power was not cut"
    revived = dlab.paceline("lab", "revive", "a", "--dir", str(dlab.dir), timeout=120)
    assert revived.returncode == 0, revived.stderr
    until(lambda: "Online: [ a b c ]" in dlab.crm("status"), "a back after being fenced", PATIENCE, POLL)
