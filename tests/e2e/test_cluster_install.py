"""``paceline cluster init/join/remove`` on three "machines": network namespaces on a bridge, as root.

Each machine is a namespace with its own address and its own /etc/paceline and /var/lib/paceline (a
``--root`` directory per node, so nothing is written to the real /etc). No systemd runs here, so the
commands start the units' own commands directly - the test checks that they say so. At the end
``paceline status`` (run on the first machine, finding its bus from the node's configuration file) shows
three nodes online, and ``cluster remove`` takes the third out again.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from paceline.lab.netns import NetnsPlan, exec_argv, pids_in, run

from tests.support.wait import until

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="installing into network namespaces needs root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs 'ip' (Debian package iproute2)"),
]

NODES = ("n1", "n2", "n3")
PACELINE = str(Path(sys.executable).parent / "paceline")


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[NetnsPlan]:
    """Three namespaces on a bridge; afterwards every process in them is killed and they are deleted."""
    plan = NetnsPlan(f"ci{os.getpid() % 100000}", NODES)
    run(plan.hub_setup())
    try:
        for node in NODES:
            run(plan.node_setup(node))
        yield plan
    finally:
        for namespace in plan.namespaces():
            for pid in pids_in(namespace):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for node in NODES:
            run(plan.node_teardown(node), ignore_errors=True)
        run(plan.hub_teardown(), ignore_errors=True)


def on(plan: NetnsPlan, node: str, *words: str, env: dict[str, str] | None = None,
       timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``paceline WORDS...`` on the node's machine (in its namespace), its output kept for the report."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", **(env or {})}
    done = subprocess.run(exec_argv(plan.namespace(node), [PACELINE, *words]), capture_output=True, text=True,
                          env=clean, timeout=timeout)
    print(f"$ paceline {' '.join(words)}\n{done.stdout}{done.stderr}")
    return done


def test_three_machines_init_join_status_remove(machines: NetnsPlan, tmp_path: Path) -> None:
    plan = machines
    root = {n: tmp_path / n for n in NODES}
    first = plan.address("n1")
    init = on(plan, "n1", "cluster", "init", "--name", "prod", "--node", "n1", "--address", first,
              "--root", str(root["n1"]))
    assert init.returncode == 0, init.stderr
    assert "the units' commands run directly" in init.stdout  # no systemd here, and it says so
    for name in ("paceline-nats", "paceline-membership", "paceline-executor", "paceline-policy",
                 "paceline-cib-store", "paceline-gateway"):
        unit = (root["n1"] / "etc/systemd/system" / f"{name}.service").read_text()
        assert "Restart=on-failure" in unit
    assert "Wants=paceline-nats.service" in (root["n1"] / "etc/systemd/system/paceline.target").read_text()

    # The join bundle travels as a file (scp on real machines); the third node takes the second's.
    bundle = tmp_path / "join.bundle"
    shutil.copy(root["n1"] / "etc/paceline/join.bundle", bundle)
    assert (bundle.stat().st_mode & 0o077) == 0
    for node, via, bundle_file in (("n2", first, bundle), ("n3", plan.address("n2"),
                                                           root["n2"] / "etc/paceline/join.bundle")):
        joined = on(plan, node, "cluster", "join", "--cluster-node", via, "--bundle", str(bundle_file),
                    "--node", node, "--address", plan.address(node), "--root", str(root[node]))
        assert joined.returncode == 0, joined.stderr
        assert f"node {node} is online" in joined.stdout

    config = {"PACELINE_CONFIG": str(root["n1"] / "etc/paceline/paceline.toml")}

    def online() -> str:
        page = on(plan, "n1", "status", env=config, timeout=60).stdout
        assert "Online: [ n1 n2 n3 ]" in page
        return page

    page = until(online, "paceline status shows three nodes online", timeout=120, interval=1)
    assert "3 nodes configured" in page
    status = on(plan, "n1", "cluster", "status", "--root", str(root["n1"]))
    assert status.returncode == 0, status.stdout + status.stderr
    assert "nodes: n1 online, n2 online, n3 online" in status.stdout
    assert "routes to n2, n3" in status.stdout
    def healthy(node: str) -> bool:
        return on(plan, node, "cluster", "check", "--root", str(root[node])).returncode == 0

    for node in NODES:  # the health check containers and monitors use: every service answers on the bus (a
        # health check is retried, as Docker retries it: on a loaded machine one PING round can miss a service)
        until(functools.partial(healthy, node), f"cluster check on {node} says every service answers",
              timeout=60, interval=1)

    # From another machine, an online node is refused (no SSH to stop it); on the node itself it goes.
    refused = on(plan, "n1", "cluster", "remove", "n3", "--root", str(root["n1"]))
    assert refused.returncode == 1 and "n3 is online" in refused.stderr
    removed = on(plan, "n3", "cluster", "remove", "n3", "--root", str(root["n3"]))
    assert removed.returncode == 0, removed.stderr
    assert not pids_in(plan.namespace("n3")), "cluster remove left processes running on n3"
    gone = on(plan, "n3", "cluster", "check", "--root", str(root["n3"]))
    assert gone.returncode == 1 and "the bus does not answer" in gone.stdout

    def two_left() -> str:
        page = on(plan, "n1", "status", env=config, timeout=60).stdout
        assert "Online: [ n1 n2 ]" in page and "n3" not in page
        return page

    until(two_left, "paceline status shows n1 and n2 only", timeout=120, interval=1)
