"""One end-to-end test per agent class, with real agents on a lab cluster: Debian's ocf:heartbeat:Dummy,
an LSB init script (also as ``service:``), the stonith test agent fence_paceline, and the bundled agents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import PATIENCE, POLL, FailureLab, running_lab
from tests.support.wait import until

pytestmark = pytest.mark.e2e
HEARTBEAT_DUMMY = Path("/usr/lib/ocf/resource.d/heartbeat/Dummy")

LSB_SCRIPT = """#!/bin/sh
# An init script keeping its "daemon" as a file; LSB status codes: 0 running, 3 stopped.
STATE={state}
case "$1" in
  start) touch "$STATE"; exit 0;;
  stop) rm -f "$STATE"; exit 0;;
  status) [ -e "$STATE" ] && exit 0; exit 3;;
  restart|force-reload) touch "$STATE"; exit 0;;
  *) exit 3;;
esac
"""


class AgentLab(FailureLab):
    def env(self) -> dict[str, str]:
        env = super().env()
        env["PACELINE_LSB_ROOT"] = str(self.dir / "init.d")
        return env


@pytest.fixture(scope="module")
def alab(tmp_path_factory) -> Iterator[AgentLab]:
    runner = AgentLab(tmp_path_factory.mktemp("alab"))
    (runner.dir / "init.d").mkdir()
    for name in ("webd", "mail"):
        script = runner.dir / "init.d" / name
        script.write_text(LSB_SCRIPT.format(state=runner.dir / f"{name}.running"))
        script.chmod(0o755)
    with running_lab(runner):
        runner.crm("configure", "property", "stonith-enabled=false")
        yield runner


def test_debian_heartbeat_dummy(alab):
    if not HEARTBEAT_DUMMY.exists():
        pytest.skip(f"Debian's resource-agents is not installed ({HEARTBEAT_DUMMY} missing)")
    alab.primitive("hb", "ocf:heartbeat:Dummy", monitor=("interval=2s", "timeout=20s"))
    until(lambda: alab.running_on("hb") == ["primary"], "ocf:heartbeat:Dummy started", PATIENCE, POLL)
    state = alab.state_file("primary", "hb")
    assert state.exists()                        # the agent's own default state file in HA_RSCTMP
    state.unlink()
    until(lambda: state.exists(), "the real agent's monitor noticed and the cluster restarted it", PATIENCE, POLL)
    assert alab.failcount("hb", "primary") == "1"
    alab.remove("hb")


@pytest.mark.parametrize(("agent", "name"), [("lsb:webd", "webd"), ("service:mail", "mail")])
def test_lsb_init_script(alab, agent, name):
    rsc = f"init-{name}"
    alab.primitive(rsc, agent, monitor=("interval=2s", "timeout=20s"))
    running = alab.dir / f"{name}.running"
    until(lambda: alab.running_on(rsc) == ["primary"] and running.exists(), f"{agent} started", PATIENCE, POLL)
    running.unlink()
    until(lambda: running.exists() and alab.failcount(rsc, "primary") == "1", "status 3 noticed, restarted",
          PATIENCE, POLL)
    alab.remove(rsc)
    assert not running.exists()


def test_stonith_device_as_a_resource(alab):
    log = alab.dir / "fenced.log"
    alab.primitive("fencer", "stonith:fence_paceline", "params", "hosts=primary,secondary",
                   f"state_dir={alab.dir / 'power'}", f"log={log}", monitor=("interval=2s", "timeout=20s"))
    until(lambda: alab.running_on("fencer") == ["primary"], "fence device started", PATIENCE, POLL)
    ra = alab.crm("ra", "info", "stonith:fence_paceline")
    assert "hosts" in ra
    alab.remove("fencer")
    assert not log.exists()  # registering and monitoring a device fences nobody


def test_bundled_agents(alab):
    alab.primitive("bundled-ip", "ocf:paceline:IPaddr", "params", "ip=127.0.0.77")
    until(lambda: alab.running_on("bundled-ip") == ["primary"], "bundled IPaddr started", PATIENCE, POLL)
    assert (alab.dir / "nodes" / "primary" / "run" / "IPaddr-127.0.0.77").exists()
    alab.remove("bundled-ip")
