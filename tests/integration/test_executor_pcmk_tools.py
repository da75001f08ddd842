"""Pacemaker's tools for agents (crm_attribute, crm_master, attrd_updater, crm_node) on a real cluster.

A real nats-server, cib-store, gateway and executor (in-process). Debian's own
``ocf:heartbeat:Stateful`` publishes its promotion score with
``${HA_SBIN_DIR}/crm_attribute -p``; a tiny test agent runs tool command lines
in the executor's agent environment (through ``validate-all``, whose output
comes back in the reply).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from paceline.cib_store.service import run as run_cib_store
from paceline.executor.__main__ import run as run_executor
from paceline.executor.runner import SBIN_DIR
from paceline.gateway.service import run as run_gateway
from paceline.shared import bus, cib
from paceline.shared.cluster.options import cluster_options

from tests.integration.test_executor_promotable import _until_gateway_serves, score_becomes
from tests.integration.test_executor_service import NODE, S, _until_serving, action, ask, node_attr, node_status
from tests.servicekit import running

pytestmark = pytest.mark.integration
DEBIAN_STATEFUL = Path("/usr/lib/ocf/resource.d/heartbeat/Stateful")
STATEFUL = {"class": "ocf", "provider": "heartbeat", "type": "Stateful"}
TOOLS = {"class": "ocf", "provider": "test", "type": "Tools"}
#: Runs OCF_RESKEY_script with sh in the agent's environment (validate-all), so the test sees what agents see.
TOOLS_AGENT = """#!/bin/sh
case "$1" in
    meta-data) echo '<resource-agent name="Tools"><version>1.0</version></resource-agent>'; exit 0 ;;
    validate-all) exec /bin/sh -c "$OCF_RESKEY_script" ;;
    *) exit 3 ;;
esac
"""
ONLINE = {"in_ccm": "true", "crmd": "online", "join": "member", "expected": "member"}


@contextlib.asynccontextmanager
async def cluster(url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """The CIB knows NODE (id 1), online and quorate; a gateway; NODE's executor with the Tools agent."""
    agent = tmp_path / "extra" / "resource.d" / "test" / "Tools"
    agent.parent.mkdir(parents=True)
    agent.write_text(TOOLS_AGENT)
    agent.chmod(0o755)
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(running("cib-store", run_cib_store, url, tmp_path / "cib"))
        await bus.request(store.nc, S.cib("replace"), "replace", {"xml": cib.serialize(cib.empty([NODE]))})
        await bus.request(store.nc, S.cib("patch"), "patch",
                          {"node": NODE, "ops": [{"op": "node_state", "attrs": {"id": "1", "uname": NODE, **ONLINE}}]})
        await bus.request(store.nc, S.cib("cluster"), "cluster", {"attrs": {"have-quorum": "1", "dc-uuid": "1"}})
        await stack.enter_async_context(running("gateway", run_gateway, url, tmp_path / "gateway"))
        ctx = await stack.enter_async_context(running("executor", run_executor, url, tmp_path / "executor",
                                                      node=NODE, extra_ocf_roots=str(tmp_path / "extra")))
        await _until_serving(ctx.nc)
        await _until_gateway_serves(ctx.nc)
        yield ctx


async def sh(nc: Any, script: str, rsc: str = "") -> dict[str, Any]:
    """Run ``script`` as an agent would (the executor's agent environment); rc, output and errors."""
    body = {"agent": TOOLS, "params": {"script": script}, "rsc": rsc, "timeout_ms": 20000}
    return await bus.request(nc, S.executor("validate", NODE), "validate", body, timeout=25)


async def transient(nc: Any, name: str) -> str | None:
    return node_attr(await node_status(nc), name)


@pytest.mark.skipif(not DEBIAN_STATEFUL.exists(), reason=f"needs Debian's resource-agents ({DEBIAN_STATEFUL})")
async def test_debian_stateful_agent_publishes_its_promotion_score(nats_server, tmp_path):
    """The real ocf:heartbeat:Stateful, unmodified: ocf_promotion_score reaches the CIB through crm_attribute -p."""
    async with cluster(nats_server.url, tmp_path) as ctx:
        def st(task: str, **extra: Any) -> dict[str, Any]:
            return action(task, "st", STATEFUL, **extra)

        assert (await ask(ctx.nc, st("monitor")))["rc"] == 7                 # probe: not running
        reply = await ask(ctx.nc, st("start"))
        assert (reply["rc"], reply["exit_reason"]) == (0, "")
        assert await score_becomes(ctx.nc, "5")
        assert (await ask(ctx.nc, st("monitor", interval_ms=60000)))["rc"] == 0
        assert (await ask(ctx.nc, st("promote")))["rc"] == 0
        assert await score_becomes(ctx.nc, "10")
        assert (await ask(ctx.nc, st("monitor", interval_ms=60000, expected_rc=8)))["rc"] == 8
        assert (await ask(ctx.nc, st("demote")))["rc"] == 0
        assert await score_becomes(ctx.nc, "5")
        # what the agent itself reads back, from the same environment
        out = await sh(ctx.nc, '"$HA_SBIN_DIR/crm_attribute" -p -G -q', rsc="st:0")
        assert (out["rc"], out["output"]) == (0, "5\n")
        assert (await ask(ctx.nc, st("stop")))["rc"] == 0
        assert await score_becomes(ctx.nc, None)


async def test_attrd_updater_round_trip_and_crm_node(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        script = """set -e
"$HA_SBIN_DIR/attrd_updater" -n foo -U 3
"$HA_SBIN_DIR/attrd_updater" -n foo -Q
"$HA_SBIN_DIR/attrd_updater" -n foo -Q -A
"$HA_SBIN_DIR/crm_node" -n
"$HA_SBIN_DIR/crm_node" -l
"$HA_SBIN_DIR/crm_node" -p
"$HA_SBIN_DIR/crm_node" -q
"$HA_SBIN_DIR/crm_node" -i
"""
        out = await sh(ctx.nc, script)
        assert out["rc"] == 0, out["errors"]
        assert out["output"].splitlines() == ['name="foo" host="n1" value="3"', 'name="foo" host="n1" value="3"',
                                              NODE, f"1 {NODE} member", NODE, "1", "1"]
        assert await transient(ctx.nc, "foo") == "3"

        # dampening and private attributes are accepted; delete, then a query has nothing to show
        out = await sh(ctx.nc, '"$HA_SBIN_DIR/attrd_updater" -p -d 5s -n foo -B 4 && '
                               '"$HA_SBIN_DIR/attrd_updater" -n foo -Q')
        assert (out["rc"], out["output"]) == (0, 'name="foo" host="n1" value="4"\n')
        out = await sh(ctx.nc, '"$HA_SBIN_DIR/attrd_updater" -n foo -D; '
                               '"$HA_SBIN_DIR/attrd_updater" -n foo -Q; echo "rc=$?"')
        assert out["output"] == "rc=105\n"
        assert out["errors"].strip() == "attrd_updater: no transient attribute 'foo' on node n1"
        assert await transient(ctx.nc, "foo") is None


async def test_crm_attribute_and_crm_master_scopes(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        script = """T=$HA_SBIN_DIR
$T/crm_master -l reboot -v 7
$T/crm_attribute --promotion -G
$T/crm_attribute -N n1 -l forever -n rack -v r1
$T/crm_attribute -N n1 -n rack -G -q
$T/crm_attribute --type crm_config --name db_REPL_INFO -s db_replication -v n1
$T/crm_attribute --type crm_config --name db_REPL_INFO -s db_replication --query -q
$T/crm_attribute -n no-such-option -G -d fallback
$T/crm_attribute -l reboot -n nothing -G; echo "rc=$?"
$T/crm_attribute --type crm_config --name db_REPL_INFO -s db_replication -D
$T/crm_attribute --type crm_config --name db_REPL_INFO -G -q; echo "rc=$?"
$T/crm_attribute -N nowhere -l reboot -n x -v 1; echo "rc=$?"
command -v crm_attribute
"""
        out = await sh(ctx.nc, script, rsc="web:1")
        assert out["output"].splitlines() == [
            "scope=status  name=master-web value=7",
            "r1",
            "n1",
            "scope=crm_config  name=no-such-option value=fallback",
            "rc=105",
            "rc=105",
            "rc=105",
            f"{SBIN_DIR}/crm_attribute",
        ], out["errors"]
        errors = out["errors"].strip().splitlines()
        assert errors[0] == "crm_attribute: no transient attribute 'nothing' on node n1"
        assert errors[1] == "crm_attribute: no crm_config option 'db_REPL_INFO' on the cluster"
        assert errors[2].startswith("crm_attribute: no node 'nowhere'")
        assert "Traceback" not in out["errors"]
        ns = await node_status(ctx.nc)
        assert node_attr(ns, "master-web") == "7"
        reply = await bus.request(ctx.nc, S.cib("query"), "query")
        root = cib.parse_cib(reply["xml"])
        node = cib.node_by_uname(root, NODE)
        assert cib.nvset_values(node, "instance_attributes") == {"rack": "r1"}
        assert root.find("configuration/crm_config/cluster_property_set[@id='db_replication']") is not None
        assert "db_REPL_INFO" not in cluster_options(root, time.time())
