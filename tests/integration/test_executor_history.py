"""The executor holds its node's history: served on ``executor.history`` at once, mirrored to the CIB later.

Failover must not wait for a JetStream write, so an action's reply and the
history the DC reads never wait for the cib-store; the CIB catches up, in
order, whenever it can be written.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from lxml import etree
from paceline.cib_store.service import run as run_cib_store
from paceline.executor.__main__ import run as run_executor
from paceline.shared import bus, cib
from paceline.shared.messages import CibChanged, pack

from tests.integration.test_executor_service import (
    NODE,
    S,
    _until_serving,
    action,
    ask,
    cluster,
    history,
    history_lrm,
    lrm_content,
    node_status,
    op_record,
    recorded,
)
from tests.servicekit import running
from tests.support.wait import until_async

pytestmark = pytest.mark.integration


def resources(lrm: cib.Element) -> set[str]:
    return {str(lr.get("id")) for lr in lrm.iterfind("lrm_resources/lrm_resource")}


def as_node_state(reply: dict[str, Any]) -> cib.Element:
    """A history reply's ``<lrm>`` under a ``node_state``, for the helpers that read the CIB's."""
    ns = etree.Element("node_state", id=NODE, uname=NODE)
    ns.append(cib.parse(reply["lrm"]))
    return ns


async def test_history_reflects_a_start_and_a_stop_as_soon_as_they_are_answered(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        empty = await history(ctx.nc)
        assert empty["node"] == NODE and lrm_content(cib.parse(empty["lrm"])) == []
        await ask(ctx.nc, action("start", "d1"))
        started = await history(ctx.nc)                    # no waiting: in the history before the reply
        rec = recorded(as_node_state(started), "d1", "d1_last_0")
        assert (rec.get("operation"), rec.get("rc-code"), rec.get("transition-key")) == ("start", "0",
                                                                                         "3:7:0:paceline")
        await ask(ctx.nc, action("stop", "d1"))
        stopped = await history(ctx.nc)
        rec = recorded(as_node_state(stopped), "d1", "d1_last_0")
        assert rec.get("operation") == "stop"
        assert empty["incarnation"] == started["incarnation"] == stopped["incarnation"]
        assert empty["seq"] < started["seq"] < stopped["seq"]


async def test_actions_are_answered_without_a_cib_store_and_the_mirror_catches_up_in_order(nats_server, tmp_path):
    async with running("executor", run_executor, nats_server.url, tmp_path / "executor", node=NODE) as ctx:
        await _until_serving(ctx.nc)
        began = time.monotonic()
        for body in (action("start", "d1"), action("stop", "d1"), action("start", "d2"), action("delete", "d2"),
                     action("start", "d3")):
            assert (await ask(ctx.nc, body, timeout=3))["rc"] == 0
        assert time.monotonic() - began < 3                # nobody answers cib.patch, and nobody waits for it
        held = await history_lrm(ctx.nc)
        assert resources(held) == {"d1", "d3"}
        async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "cib"):
            ns = await node_status(ctx.nc, within=10)
        # in order: d1's stop after its start, d2's deletion after its start
        assert recorded(ns, "d1", "d1_last_0").get("operation") == "stop"
        assert op_record(ns, "d2", "d2_last_0") is None
        assert recorded(ns, "d3", "d3_last_0").get("operation") == "start"


async def test_another_writers_deletion_reaches_the_history(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        for rsc in ("d1", "d2"):
            await ask(ctx.nc, action("start", rsc))
        # what the executor itself wrote, or other kinds of ops, leave its history alone
        for client, ops in (("executor", [{"op": "lrm_delete", "rsc": "d2"}]),
                            ("crm", [{"op": "attr", "name": "x", "value": "1"}])):
            await ctx.nc.publish(S.cib_changed, pack(CibChanged(old="0.0.1", new="0.0.2", scope="status", node=NODE,
                                                                client=client, ops=ops)))
        # resource cleanup: the gateway writes the deletion straight into the CIB
        await bus.request(ctx.nc, S.cib("patch"), "patch",
                          {"node": NODE, "client": "crm", "ops": [{"op": "lrm_delete", "rsc": "d1"}]})

        async def d1_forgotten() -> bool:
            return resources(await history_lrm(ctx.nc)) == {"d2"}

        await until_async(d1_forgotten, "the executor forgets d1 and only d1", 3, interval=0.05)
        ns = await node_status(ctx.nc)
        assert op_record(ns, "d1", "d1_last_0") is None and op_record(ns, "d2", "d2_last_0") is not None


async def test_a_deletion_made_while_the_mirror_lags_is_not_undone_by_older_writes(nats_server, tmp_path):
    async with running("executor", run_executor, nats_server.url, tmp_path / "executor", node=NODE) as ctx:
        await _until_serving(ctx.nc)
        for rsc in ("d1", "d2"):
            await ask(ctx.nc, action("start", rsc), timeout=3)   # queued for the CIB, not written yet
        # cleanup of d1 by the gateway, announced while the executor's own writes of d1 are still queued
        await ctx.nc.publish(S.cib_changed, pack(CibChanged(old="0.0.1", new="0.0.2", scope="status", node=NODE,
                                                            client="crm", ops=[{"op": "lrm_delete", "rsc": "d1"}])))

        async def d1_forgotten() -> bool:
            return resources(await history_lrm(ctx.nc)) == {"d2"}

        await until_async(d1_forgotten, "the executor forgets d1", 3, interval=0.05)
        async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "cib"):
            ns = await node_status(ctx.nc, within=10)
        assert op_record(ns, "d1", "d1_last_0") is None and op_record(ns, "d2", "d2_last_0") is not None
