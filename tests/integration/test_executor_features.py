"""Executor features over a real nats-server and cib-store: restarts keep monitors, limits, delays, ra, fencing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from lxml import etree
from paceline.executor.standards import BUNDLED_ROOT
from paceline.shared import bus, cib, lrm

from tests.integration.test_executor_service import (
    NODE,
    S,
    action,
    ask,
    cluster,
    node_status,
    op_record,
    recorded,
)

pytestmark = pytest.mark.integration
SLOW = {"class": "ocf", "provider": "site", "type": "Slow"}


def install_slow_agent(root: Path) -> None:
    """An OCF agent whose monitor takes 0.3 s and notes how many of its runs overlap."""
    agent = root / "resource.d" / "site" / "Slow"
    agent.parent.mkdir(parents=True, exist_ok=True)
    agent.write_text("""#!/bin/sh
dir="$OCF_RESKEY_dir"
case "$1" in
  meta-data) echo '<resource-agent name="Slow"><parameters><parameter name="dir" required="1">
<content type="string"/></parameter></parameters><actions><action name="start" timeout="5s"/></actions>
</resource-agent>'; exit 0;;
  monitor|start)
    touch "$dir/run.$$"; ls "$dir" | grep -c '^run' >> "$dir/overlap"; sleep 0.3; rm -f "$dir/run.$$"; exit 0;;
  *) exit 0;;
esac
""")
    agent.chmod(0o755)


async def set_cluster_option(nc, name: str, value: str) -> None:
    reply = await bus.request(nc, S.cib("query"), "query")
    root = cib.parse_cib(reply["xml"])
    props = cib.section(root, "crm_config").find("cluster_property_set")
    if props is None:
        props = etree.SubElement(cib.section(root, "crm_config"), "cluster_property_set", id="cib-bootstrap-options")
    etree.SubElement(props, "nvpair", id=f"opt-{name}", name=name, value=value)
    await bus.request(nc, S.cib("replace"), "replace", {"xml": cib.serialize(root),
                                                         "expected_version": reply["version"], "client": "test"})


async def test_recurring_monitors_survive_an_executor_restart(nats_server, tmp_path):
    monitor = action("monitor", "d1", interval_ms=60000, timeout_ms=15000)
    async with cluster(nats_server.url, tmp_path) as ctx:
        await ask(ctx.nc, action("start", "d1"))
        await ask(ctx.nc, monitor)
        assert (tmp_path / "executor" / "recurring.json").exists()
    async with cluster(nats_server.url, tmp_path) as ctx:       # same state dir: a restarted executor
        ns = await node_status(ctx.nc)
        probe = recorded(ns, "d1", "d1_last_0")
        assert (probe.get("operation"), probe.get("rc-code"), probe.get("interval")) == ("monitor", "0", "0")
        rec = op_record(ns, "d1", "d1_monitor_60000")
        assert rec is not None and rec.get("rc-code") == "0"
        assert rec.get("op-digest") == lrm.pacemaker_digest({}, 15000)
        assert op_record(ns, "d1", "d1_last_failure_0") is None
        await ask(ctx.nc, action("stop", "d1"))
    (tmp_path / "executor" / "run" / "Dummy-d1.state").unlink(missing_ok=True)
    async with cluster(nats_server.url, tmp_path) as ctx:       # stopped: nothing left to resume
        ns = await node_status(ctx.nc)
        assert op_record(ns, "d1", "d1_last_0") is None


async def test_a_dead_resource_is_probed_but_not_monitored_after_restart(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        await ask(ctx.nc, action("start", "d1"))
        await ask(ctx.nc, action("monitor", "d1", interval_ms=60000))
    (tmp_path / "executor" / "run" / "Dummy-d1.state").unlink()   # died while the executor was away
    async with cluster(nats_server.url, tmp_path) as ctx:
        ns = await node_status(ctx.nc)
        assert recorded(ns, "d1", "d1_last_0").get("rc-code") == "7"
        assert op_record(ns, "d1", "d1_monitor_60000") is None


async def test_node_action_limit_bounds_parallel_operations(nats_server, tmp_path):
    install_slow_agent(tmp_path / "extra")
    marks = tmp_path / "marks"
    marks.mkdir()
    async with cluster(nats_server.url, tmp_path, extra_ocf_roots=str(tmp_path / "extra")) as ctx:
        await set_cluster_option(ctx.nc, "node-action-limit", "2")
        await asyncio.sleep(0.5)  # the executor re-reads the options on the change event
        bodies = [action("monitor", f"s{i}", SLOW, params={"dir": str(marks)}) for i in range(6)]
        started = time.monotonic()
        replies = await asyncio.gather(*(ask(ctx.nc, b) for b in bodies))
        elapsed = time.monotonic() - started
    assert all(r["rc"] == 0 for r in replies)
    overlaps = [int(x) for x in (marks / "overlap").read_text().split()]
    assert max(overlaps) <= 2 and elapsed >= 0.85  # 6 runs of 0.3 s, two at a time


async def test_start_delay_postpones_the_operation(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        started = time.monotonic()
        reply = await ask(ctx.nc, action("monitor", "d1", meta={"start-delay": "1s"}, expected_rc=7))
        assert reply["rc"] == 7 and time.monotonic() - started >= 1.0


async def test_agent_discovery_and_parsed_metadata(nats_server, tmp_path):
    install_slow_agent(tmp_path / "extra")
    async with cluster(nats_server.url, tmp_path, extra_ocf_roots=str(tmp_path / "extra")) as ctx:
        agents = await bus.request(ctx.nc, S.executor("agents", NODE), "agents", {"type": "Dummy"})
        assert {"ocf", "lsb", "stonith", "service", "systemd"} <= set(agents["classes"])
        assert "Slow" in agents["ocf"]["site"] and "fence_paceline" in agents["stonith"]
        assert "paceline" in agents["providers"]
        meta = await bus.request(ctx.nc, S.executor("metadata", NODE), "metadata",
                                 {"agent": {"class": "ocf", "provider": "paceline", "type": "Dummy"}})
        params = {p["name"]: p for p in meta["info"]["parameters"]}
        assert "state" in params and params["state"]["type"] == "string"
        assert any(a["name"] == "start" and a.get("timeout") for a in meta["info"]["actions"])
        slow = await bus.request(ctx.nc, S.executor("metadata", NODE), "metadata", {"agent": SLOW})
        assert slow["info"]["parameters"][0]["required"] is True
        # A new agent shows up without restarting anything (the directory's mtime moved).
        other = tmp_path / "extra" / "resource.d" / "site" / "Other"
        other.write_text("#!/bin/sh\nexit 0\n")
        other.chmod(0o755)
        agents = await bus.request(ctx.nc, S.executor("agents", NODE), "agents", {})
        assert "Other" in agents["ocf"]["site"]
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(ctx.nc, S.executor("metadata", NODE), "metadata", {"agent": {"class": "systemd",
                                                                                          "type": "nope"}})
        assert err.value.code == "not-installed"


async def test_fencing_request_runs_the_fence_agent(nats_server, tmp_path):
    log = tmp_path / "fenced.log"
    device = {"class": "stonith", "type": "fence_paceline"}
    params = {"hosts": "n1,n2", "state_dir": str(tmp_path / "power"), "log": str(log)}
    async with cluster(nats_server.url, tmp_path) as ctx:
        reply = await bus.request(ctx.nc, S.executor("fence", NODE), "fence",
                                  {"agent": device, "params": params, "action": "reboot", "target": "n2", "term": 1})
        assert reply["rc"] == 0 and log.read_text().split()[1:] == ["reboot", "n2"]
        assert (await ask(ctx.nc, action("start", "fd", device, params=params)))["rc"] == 0
        assert (await ask(ctx.nc, action("monitor", "fd", device, params=params, interval_ms=60000)))["rc"] == 0
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(ctx.nc, S.executor("fence", NODE), "fence",
                              {"agent": device, "params": params, "action": "reboot", "target": "n2", "term": 0})
        assert err.value.code == "stale-term"
    assert (BUNDLED_ROOT / "stonith" / "fence_paceline").exists()
