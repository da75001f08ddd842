"""The executor over a real nats-server and a real cib-store: actions, records, fencing, monitors.

The executor's own history is the truth and the CIB a mirror written in the
background, so reading the CIB after a reply waits for the mirror to match the
history (:func:`node_status`); :func:`history` reads the executor's copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from paceline.cib_store.service import run as run_cib_store
from paceline.executor.__main__ import run as run_executor
from paceline.shared import bus, cib, codec, lrm
from paceline.shared.natsserver import free_port
from paceline.shared.subjects import Subjects
from prometheus_client import REGISTRY

from tests.servicekit import running
from tests.support.wait import until_async

pytestmark = pytest.mark.integration
S = Subjects("default")
NODE = "n1"
DUMMY = {"class": "ocf", "provider": "paceline", "type": "Dummy"}
HTTP = {"class": "ocf", "provider": "paceline", "type": "http"}


@contextlib.asynccontextmanager
async def cluster(nats_url: str, tmp_path: Path, **settings: Any) -> AsyncIterator[Any]:
    """A cib-store and the executor of NODE, both in-process; yields the executor's context."""
    async with running("cib-store", run_cib_store, nats_url, tmp_path / "cib"), \
            running("executor", run_executor, nats_url, tmp_path / "executor", node=NODE, **settings) as ctx:
        await _until_serving(ctx.nc)
        yield ctx


async def until_answered(ask_once: Callable[[], Awaitable[Any]], ready: Callable[[bus.RemoteError], bool] =
                         lambda exc: False, within: float = 10) -> None:
    """Repeat a harmless request until a service answers it (or ``ready`` says its error proves it serves)."""

    async def answered() -> bool:
        try:
            await ask_once()
        except bus.RemoteError as exc:
            if not ready(exc):
                raise AssertionError(f"not serving yet: {exc}") from None
        except bus.BusUnavailable as exc:
            raise AssertionError(f"not serving yet: {exc}") from None
        return True

    await until_async(answered, "the service answers", within, interval=0.05)


async def _until_serving(nc: Any) -> None:
    """Wait for the endpoint with a harmless request: cancelling a monitor nobody runs (a restarted executor
    that remembers a newer term refuses it as stale, and so proves it is serving)."""
    await until_answered(
        lambda: bus.request(nc, S.executor_action(NODE), "action", action("cancel", "nothing", term=0), timeout=0.5),
        ready=lambda exc: exc.code == "stale-term")


def action(task: str, rsc: str, agent: dict[str, str] = DUMMY, *, term: int = 1, interval_ms: int = 0,
           **extra: Any) -> dict[str, Any]:
    body = {"id": 3, "transition": 7, "term": term, "task": task, "rsc": rsc, "node": NODE,
            "interval_ms": interval_ms, "timeout_ms": 20000, "agent": agent, "params": {}, "meta": {},
            "expected_rc": 0, "digest": "abc", "inputs": [], "pseudo": False}
    body.update(extra)
    return body


async def ask(nc: Any, body: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
    return await bus.request(nc, S.executor_action(NODE), "action", body, timeout=timeout)


async def history(nc: Any) -> dict[str, Any]:
    """The executor's ``history`` reply (node, incarnation, seq, lrm)."""
    return await bus.request(nc, S.executor("history", NODE), "history", {})


async def history_lrm(nc: Any) -> cib.Element:
    """The ``<lrm>`` element of the history the executor holds."""
    return cib.parse((await history(nc))["lrm"])


def lrm_content(lrm: cib.Element | None) -> list[tuple[Any, ...]]:
    """What an ``<lrm>`` says, whitespace and attribute order aside: resources with their records."""
    if lrm is None:
        return []
    return sorted((lr.get("id"), sorted(lr.attrib.items()), sorted(sorted(op.attrib.items())
                                                                     for op in lr.iterfind("lrm_rsc_op")))
                  for lr in lrm.iterfind("lrm_resources/lrm_resource"))


async def cib_status(nc: Any) -> cib.Element | None:
    """The node's status as the CIB has it now (the mirror may lag behind the executor)."""
    reply = await bus.request(nc, S.cib("query"), "query")
    return cib.node_state(cib.parse_cib(reply["xml"]), NODE, create=False)


async def node_status(nc: Any, within: float = 5) -> cib.Element:
    """The node's status in the CIB once the mirror holds the executor's history."""

    async def mirrored() -> tuple[cib.Element] | None:
        ns = await cib_status(nc)
        held = await history_lrm(nc)
        if ns is None or lrm_content(ns.find("lrm")) != lrm_content(held):
            return None
        return (ns,)

    found = await until_async(mirrored, "the CIB mirrors the executor's history", within, interval=0.05)
    assert found is not None
    return found[0]


def op_record(ns: cib.Element, rsc: str, record: str) -> cib.Element | None:
    return ns.find(f"lrm/lrm_resources/lrm_resource[@id='{rsc}']/lrm_rsc_op[@id='{record}']")


def recorded(ns: cib.Element, rsc: str, record: str) -> cib.Element:
    """The operation record, which must be there."""
    rec = op_record(ns, rsc, record)
    assert rec is not None, f"no record {record} of {rsc} in the node's status"
    return rec


def node_attr(ns: cib.Element, name: str) -> str | None:
    nv = ns.find(f"transient_attributes/instance_attributes/nvpair[@name='{name}']")
    return None if nv is None else nv.get("value")


async def status_when(nc: Any, holds: Callable[[cib.Element], bool], what: str, timeout: float) -> cib.Element:
    """The node's status as it was read when ``holds`` first was true of it (polled)."""

    async def check() -> tuple[cib.Element] | None:
        ns = await node_status(nc)
        return (ns,) if holds(ns) else None

    found = await until_async(check, what, timeout)
    assert found is not None  # until_async returns a true value
    return found[0]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_start_is_recorded_as_pacemaker_does_and_published(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        events: list[dict] = []
        await ctx.nc.subscribe(S.executor_event(NODE), cb=functools.partial(_collect, events))
        before = sample("paceline_executor_operations_total", op="start", outcome="ok")
        reply = await ask(ctx.nc, action("start", "d1"))
        assert (reply["rc"], reply["op_status"], reply["rsc"], reply["task"]) == (0, 0, "d1", "start")
        assert (tmp_path / "executor" / "run" / "Dummy-d1.state").exists()
        ns = await node_status(ctx.nc)
        lr = ns.find("lrm/lrm_resources/lrm_resource[@id='d1']")
        assert lr is not None
        assert (lr.get("class"), lr.get("provider"), lr.get("type")) == ("ocf", "paceline", "Dummy")
        rec = recorded(ns, "d1", "d1_last_0")
        assert rec.get("operation") == "start" and rec.get("rc-code") == "0" and rec.get("op-status") == "0"
        assert rec.get("transition-key") == "3:7:0:paceline"
        assert rec.get("transition-magic") == "0:0;3:7:0:paceline"
        assert rec.get("op-digest") == lrm.pacemaker_digest({}) and rec.get("on_node") == NODE
        assert sample("paceline_executor_operations_total", op="start", outcome="ok") == before + 1
        reply = await ask(ctx.nc, action("stop", "d1"))
        assert reply["rc"] == 0 and reply["call_id"] > 0
        rec = recorded(await node_status(ctx.nc), "d1", "d1_last_0")
        assert rec.get("operation") == "stop"
        assert not (tmp_path / "executor" / "run" / "Dummy-d1.state").exists()
        await until_async(lambda: len(events) >= 2, "both results are published", 2)
        assert [(e["task"], e["rc"]) for e in events] == [("start", 0), ("stop", 0)]


async def _collect(events: list[dict], msg: Any) -> None:
    env = codec.decode(msg.data, "op.result")
    events.append(env.body)


async def test_probe_of_a_missing_agent_is_recorded_as_not_installed(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        reply = await ask(ctx.nc, action("monitor", "x", {"class": "ocf", "provider": "paceline",
                                                          "type": "Missing"}, expected_rc=7))
        assert (reply["rc"], reply["op_status"]) == (lrm.OCF_ERR_INSTALLED, lrm.EXEC_NOT_INSTALLED)
        assert "not installed" in reply["exit_reason"]
        rec = recorded(await node_status(ctx.nc), "x", "x_last_0")
        assert rec.get("op-status") == "7" and rec.get("transition-key") == "3:7:7:paceline"


async def test_stale_term_is_refused_and_not_run(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        assert (await ask(ctx.nc, action("start", "d1", term=5)))["rc"] == 0
        with pytest.raises(bus.RemoteError) as err:
            await ask(ctx.nc, action("start", "d2", term=4))
        assert err.value.code == "stale-term"
        assert not (tmp_path / "executor" / "run" / "Dummy-d2.state").exists()
        assert op_record(await node_status(ctx.nc), "d2", "d2_last_0") is None
        assert (await ask(ctx.nc, action("start", "d2", term=6)))["rc"] == 0
        with pytest.raises(bus.RemoteError) as err:
            await ask(ctx.nc, action("stop", "d1", term=5))
        assert err.value.code == "stale-term"


async def test_recurring_monitor_records_a_failure_with_fail_count(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        events: list[dict] = []
        await ctx.nc.subscribe(S.executor_event(NODE), cb=functools.partial(_collect, events))
        await ask(ctx.nc, action("start", "d1"))
        reply = await ask(ctx.nc, action("monitor", "d1", interval_ms=200))
        assert reply["rc"] == 0
        assert sample("paceline_executor_recurring_monitors") == 1
        rec = recorded(await node_status(ctx.nc), "d1", "d1_monitor_200")
        assert rec.get("rc-code") == "0"
        first_call = rec.get("call-id")
        await asyncio.sleep(0.5)                  # healthy repeats write nothing
        rec = recorded(await node_status(ctx.nc), "d1", "d1_monitor_200")
        assert rec.get("call-id") == first_call

        (tmp_path / "executor" / "run" / "Dummy-d1.state").unlink()
        killed = time.monotonic()

        def failure_recorded(ns: cib.Element) -> bool:
            rec = op_record(ns, "d1", "d1_monitor_200")
            return rec is not None and rec.get("rc-code") == "7"

        ns = await status_when(ctx.nc, failure_recorded, "the monitor failure reaches the CIB", 3)
        assert time.monotonic() - killed < 0.2 + 1.0
        assert recorded(ns, "d1", "d1_last_failure_0").get("rc-code") == "7"
        assert node_attr(ns, "fail-count-d1#monitor_200") == "1"
        assert node_attr(ns, "last-failure-d1#monitor_200")

        def failure_announced() -> bool:  # published right after the record is written
            return any(e["rc"] == 7 and e["interval_ms"] == 200 for e in events)

        await until_async(failure_announced, "the failure is published", 2)

        await asyncio.sleep(0.5)                  # still failing: no new writes, no more counting
        assert node_attr(await node_status(ctx.nc), "fail-count-d1#monitor_200") == "1"
        await ask(ctx.nc, action("stop", "d1"))   # a stop cancels the recurring monitor
        assert sample("paceline_executor_recurring_monitors") == 0


async def test_recurring_monitor_notices_a_killed_http_server(nats_server, tmp_path):
    docroot = tmp_path / "www"
    docroot.mkdir()
    params = {"docroot": str(docroot), "port": str(free_port())}
    async with cluster(nats_server.url, tmp_path) as ctx:
        try:
            assert (await ask(ctx.nc, action("start", "web", HTTP, params=params)))["rc"] == 0
            assert (await ask(ctx.nc, action("monitor", "web", HTTP, interval_ms=500, params=params)))["rc"] == 0
            pid = int((tmp_path / "executor" / "run" / "http-web.pid").read_text())
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()

            def failure_recorded(ns: cib.Element) -> bool:
                rec = op_record(ns, "web", "web_monitor_500")
                return rec is not None and rec.get("rc-code") == "7"

            ns = await status_when(ctx.nc, failure_recorded, "the monitor failure reaches the CIB", 3)
            assert time.monotonic() - killed < 0.5 + 1.0
            assert node_attr(ns, "fail-count-web#monitor_500") == "1"
        finally:
            await ask(ctx.nc, action("stop", "web", HTTP, params=params))


async def test_malformed_requests_are_counted_and_service_keeps_serving(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        subject = S.executor_action(NODE)
        before = sample("paceline_malformed_messages_total", service="executor", subject=subject)
        msg = await ctx.nc.request(subject, b"\xc1 not msgpack", timeout=5)
        assert codec.decode(msg.data).body["code"] == "malformed"
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(ctx.nc, subject, "action", {"task": "start", "rsc": "d1"})
        assert err.value.code == "malformed"
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(ctx.nc, subject, "query", action("start", "d1"))
        assert err.value.code == "malformed"
        assert sample("paceline_malformed_messages_total", service="executor", subject=subject) == before + 3
        assert (await ask(ctx.nc, action("start", "d1")))["rc"] == 0
        with pytest.raises(bus.RemoteError) as err:
            await ask(ctx.nc, {**action("start", "d1"), "node": "n2"})
        assert err.value.code == "wrong-node"


async def test_hung_agent_is_killed_at_its_timeout(nats_server, tmp_path):
    ocf = tmp_path / "ocf"
    agent = ocf / "resource.d" / "test" / "hang"
    agent.parent.mkdir(parents=True)
    pids = tmp_path / "pids"
    agent.write_text(f"#!/bin/sh\ntrap '' TERM\nsleep 60 &\necho $! >> {pids}\necho $$ >> {pids}\nwait\n")
    agent.chmod(0o755)
    async with cluster(nats_server.url, tmp_path, ocf_root=str(ocf)) as ctx:
        started = time.monotonic()
        reply = await ask(ctx.nc, action("start", "h", {"class": "ocf", "provider": "test", "type": "hang"},
                                         timeout_ms=400))
        assert time.monotonic() - started < 4
        assert (reply["rc"], reply["op_status"]) == (lrm.OCF_ERR_GENERIC, lrm.EXEC_TIMEOUT)
        ns = await node_status(ctx.nc)
        rec = recorded(ns, "h", "h_last_0")
        assert (rec.get("rc-code"), rec.get("op-status")) == ("1", "2")
        assert node_attr(ns, "fail-count-h#start_0") == "INFINITY"
        left = [int(p) for p in pids.read_text().split() if _alive(int(p))]
        assert left == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


async def test_startup_clears_the_node_history(nats_server, tmp_path):
    async with running("cib-store", run_cib_store, nats_server.url, tmp_path / "cib") as cib_ctx:
        old = lrm.OpResult(rsc="ghost", task="start", interval_ms=0, rc=0, node=NODE, call_id=99)
        await bus.request(cib_ctx.nc, S.cib("patch"), "patch",
                          {"node": NODE, "client": "test", "ops": lrm.result_ops(old, DUMMY)})
        ns = await cib_status(cib_ctx.nc)
        assert ns is not None and op_record(ns, "ghost", "ghost_last_0") is not None
        async with running("executor", run_executor, nats_server.url, tmp_path / "ex", node=NODE) as ctx:
            await _until_serving(ctx.nc)
            assert lrm_content(await history_lrm(ctx.nc)) == []
            assert (await node_status(ctx.nc)).find("lrm/lrm_resources/lrm_resource") is None


async def test_metadata_and_agent_list(nats_server, tmp_path):
    async with cluster(nats_server.url, tmp_path) as ctx:
        reply = await bus.request(ctx.nc, S.executor("metadata", NODE), "metadata", {"agent": HTTP})
        root = cib.parse(reply["xml"])
        assert {p.get("name") for p in root.iterfind("parameters/parameter")} == {"docroot", "port", "bind"}
        with pytest.raises(bus.RemoteError) as err:
            await bus.request(ctx.nc, S.executor("metadata", NODE), "metadata",
                              {"agent": {"class": "ocf", "provider": "paceline", "type": "Nope"}})
        assert err.value.code == "not-installed"
        listing = await bus.request(ctx.nc, S.executor("agents", NODE), "agents", {})
        assert {"Dummy", "IPaddr", "http"} <= set(listing["ocf"]["paceline"])
