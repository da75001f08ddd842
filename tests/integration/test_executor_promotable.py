"""Promotable resources on a real executor: promote/demote, role monitors, and the promotion score.

A real nats-server, cib-store, gateway and executor (in-process) run the bundled
``ocf:paceline:Stateful`` agent, which publishes its score with the real
``paceline`` CLI through the gateway, as it would in a lab.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from paceline.cib_store.service import run as run_cib_store
from paceline.executor.__main__ import run as run_executor
from paceline.gateway.service import run as run_gateway
from paceline.shared import bus, cib, lrm

from tests.integration.test_executor_service import (
    NODE,
    S,
    _collect,
    _until_serving,
    action,
    ask,
    node_attr,
    node_status,
    op_record,
    recorded,
    sample,
    status_when,
    until_answered,
)
from tests.servicekit import running
from tests.support.wait import until_async

pytestmark = pytest.mark.integration
STATEFUL = {"class": "ocf", "provider": "paceline", "type": "Stateful"}
PROMOTED = lrm.OCF_RUNNING_PROMOTED


@contextlib.asynccontextmanager
async def cluster(url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """A cib-store whose CIB knows NODE, a gateway and NODE's executor; yields the executor's context."""
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(running("cib-store", run_cib_store, url, tmp_path / "cib"))
        await bus.request(store.nc, S.cib("replace"), "replace", {"xml": cib.serialize(cib.empty([NODE]))})
        await stack.enter_async_context(running("gateway", run_gateway, url, tmp_path / "gateway"))
        ctx = await stack.enter_async_context(running("executor", run_executor, url, tmp_path / "executor",
                                                      node=NODE))
        await _until_serving(ctx.nc)
        await _until_gateway_serves(ctx.nc)
        yield ctx


async def _until_gateway_serves(nc: Any) -> None:
    await until_answered(lambda: bus.request(nc, S.gateway("cib"), "cib", {}, timeout=0.5))


def st(task: str, **extra: Any) -> dict[str, Any]:
    return action(task, "st", STATEFUL, **extra)


async def score(nc: Any) -> str | None:
    return node_attr(await node_status(nc), "master-st")


async def score_becomes(nc: Any, value: str | None) -> bool:
    """The agent sets the attribute before it exits, so this is only slack for the CIB read."""
    async def check() -> bool:
        return await score(nc) == value
    return await until_async(check, f"the promotion score is {value}", 2)


async def test_promote_demote_and_role_monitors(nats_server, tmp_path):
    state = tmp_path / "executor" / "run" / "Stateful-st.state"
    async with cluster(nats_server.url, tmp_path) as ctx:
        events: list[dict] = []
        await ctx.nc.subscribe(S.executor_event(NODE), cb=functools.partial(_collect, events))
        assert (await ask(ctx.nc, st("start")))["rc"] == 0
        assert await score_becomes(ctx.nc, "5")
        assert (await ask(ctx.nc, st("monitor", interval_ms=200)))["rc"] == 0

        # promote: the unpromoted monitor is cancelled and its record dropped in the same write
        reply = await ask(ctx.nc, st("promote"))
        assert (reply["rc"], reply["task"]) == (0, "promote")
        ns = await node_status(ctx.nc)
        last = recorded(ns, "st", "st_last_0")
        assert (last.get("operation"), last.get("rc-code"), last.get("transition-key")) == ("promote", "0",
                                                                                             "3:7:0:paceline")
        assert op_record(ns, "st", "st_monitor_200") is None
        assert sample("paceline_executor_recurring_monitors") == 0
        assert await score_becomes(ctx.nc, "10")

        # the promoted monitor: rc 8 is its success, recorded with the expected rc in the transition key
        reply = await ask(ctx.nc, st("monitor", interval_ms=150, expected_rc=PROMOTED))
        assert reply["rc"] == PROMOTED
        rec = recorded(await node_status(ctx.nc), "st", "st_monitor_150")
        assert (rec.get("rc-code"), rec.get("transition-key")) == ("8", "3:7:8:paceline")
        await asyncio.sleep(0.5)                              # a few healthy repeats
        ns = await node_status(ctx.nc)
        assert op_record(ns, "st", "st_last_failure_0") is None
        assert node_attr(ns, "fail-count-st#monitor_150") is None
        assert not [e for e in events if e["rc"] != e["expected_rc"]]

        # demote: the promoted monitor goes, record and all
        assert (await ask(ctx.nc, st("demote")))["rc"] == 0
        ns = await node_status(ctx.nc)
        assert recorded(ns, "st", "st_last_0").get("operation") == "demote"
        assert op_record(ns, "st", "st_monitor_150") is None
        assert sample("paceline_executor_recurring_monitors") == 0
        assert await score_becomes(ctx.nc, "5")
        assert state.read_text().strip() == "unpromoted"

        # promoted again, then demoted behind the cluster's back: rc 0 is the promoted monitor's failure
        await ask(ctx.nc, st("promote"))
        await ask(ctx.nc, st("monitor", interval_ms=150, expected_rc=PROMOTED))
        state.write_text("unpromoted\n")

        def failure_recorded(ns: cib.Element) -> bool:
            rec = op_record(ns, "st", "st_monitor_150")
            return rec is not None and rec.get("rc-code") == "0"

        ns = await status_when(ctx.nc, failure_recorded, "the promoted monitor reports rc 0", 3)
        failure = recorded(ns, "st", "st_last_failure_0")
        assert (failure.get("rc-code"), failure.get("transition-key")) == ("0", "3:7:8:paceline")
        assert node_attr(ns, "fail-count-st#monitor_150") == "1"

        def failure_announced() -> bool:
            return any(e["interval_ms"] == 150 and e["rc"] == 0 and e["expected_rc"] == PROMOTED for e in events)

        await until_async(failure_announced, "the failure is published", 2)

        assert (await ask(ctx.nc, st("stop")))["rc"] == 0
        assert await score_becomes(ctx.nc, None)
        assert op_record(await node_status(ctx.nc), "st", "st_monitor_150") is None


async def test_unpromoted_monitor_fails_on_a_promoted_instance(nats_server, tmp_path):
    """The role changed behind the cluster's back: rc 8 is no success for a monitor expecting 0."""
    async with cluster(nats_server.url, tmp_path) as ctx:
        await ask(ctx.nc, st("start"))
        await ask(ctx.nc, st("monitor", interval_ms=150))
        (tmp_path / "executor" / "run" / "Stateful-st.state").write_text("promoted\n")

        ns = await status_when(ctx.nc, lambda ns: node_attr(ns, "fail-count-st#monitor_150") == "1",
                               "the unpromoted monitor reports rc 8 as a failure", 3)
        assert recorded(ns, "st", "st_monitor_150").get("rc-code") == "8"
        assert recorded(ns, "st", "st_last_failure_0").get("transition-key") == "3:7:0:paceline"
        # the DC cancelling the monitor drops its record too (it would read as a monitor still running)
        await ask(ctx.nc, st("cancel", interval_ms=150, meta={"operation": "monitor"}))
        assert op_record(await node_status(ctx.nc), "st", "st_monitor_150") is None
        assert sample("paceline_executor_recurring_monitors") == 0


async def test_failed_promote_and_demote_are_counted(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        for task in ("promote", "demote"):            # the instance is not running: both answer rc 7
            reply = await ask(ctx.nc, st(task))
            assert reply["rc"] == lrm.OCF_NOT_RUNNING and "not running" in reply["exit_reason"]
        ns = await node_status(ctx.nc)
        assert node_attr(ns, "fail-count-st#promote_0") == "1"
        assert node_attr(ns, "fail-count-st#demote_0") == "1"
        assert recorded(ns, "st", "st_last_failure_0").get("operation") == "demote"


async def test_a_notification_reaches_the_agent_and_leaves_no_history(nats_server, tmp_path):
    state = tmp_path / "executor" / "run" / "Stateful-st.state"
    async with cluster(nats_server.url, tmp_path) as ctx:
        assert (await ask(ctx.nc, st("start")))["rc"] == 0
        assert (await ask(ctx.nc, st("monitor", interval_ms=200)))["rc"] == 0
        meta = {"notify_type": "pre", "notify_operation": "promote", "notify_promote_uname": NODE,
                "notify_start_uname": " ", "notify_stop_uname": " ", "notify_demote_uname": " "}
        reply = await ask(ctx.nc, st("notify", meta=meta))
        assert (reply["rc"], reply["task"]) == (0, "notify")
        said = Path(f"{state}.notify").read_text().split()
        assert said[:2] == ["pre-promote", "start="] and f"promote={NODE}" in said
        ns = await node_status(ctx.nc)
        assert recorded(ns, "st", "st_last_0").get("operation") == "start"     # no notify record
        assert op_record(ns, "st", "st_monitor_200") is not None                 # monitors untouched
        assert sample("paceline_executor_recurring_monitors") == 1
        assert (await ask(ctx.nc, st("stop")))["rc"] == 0
