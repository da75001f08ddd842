"""Fencing on a lab cluster: ``node fence`` and a crashed node, carried out by the DC through fence_paceline."""

from __future__ import annotations

import asyncio
import re
from functools import partial
from pathlib import Path

import pytest
from lxml import etree
from paceline.cib_store import layout
from paceline.lab.lab import Lab
from paceline.shared.subjects import Subjects

from tests.e2e.bus_recorder import BusRecorder
from tests.e2e.cli_helpers import dc_of, ok, running_on, status_json
from tests.support.wait import until

pytestmark = pytest.mark.e2e


#: How long a wait may take unless it says otherwise, and how often it looks.
PATIENCE = 20.0
POLL = 0.2


def online(lab, node: str) -> bool:
    return any(n["name"] == node and n["online"] for n in status_json(lab)["nodes"])


def runs_only_on(lab, rsc: str, node: str) -> bool:
    return running_on(lab, rsc) == [node]


def runs_once(lab, rsc: str) -> bool:
    return len(running_on(lab, rsc)) == 1


async def status_history(state: Lab, node: str) -> list[etree._Element]:
    """Every stored version of a node's status (the KV keeps a history per key)."""
    nc = await state.connect("cib-store@" + state.nodes[0], "fencing-test")
    try:
        kv = await nc.jetstream().key_value(Subjects(state.cluster).cib_bucket)
        return [etree.fromstring(e.value) for e in await kv.history(layout.status_key(node)) if e.value]
    finally:
        await nc.close()


def fence_log(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(scope="module")
def fencing_lab(lab, tmp_path_factory):
    """Fencing on, one fence_paceline device for both nodes, and two sticky Dummy resources."""
    work = tmp_path_factory.mktemp("fence")
    for words in (["property", "stonith-enabled=true", "no-quorum-policy=ignore"],
                  ["rsc_defaults", "resource-stickiness=100"],
                  ["primitive", "fencer", "stonith:fence_paceline", "params", "hosts=primary,secondary",
                   f"state_dir={work / 'power'}", f"log={work / 'fence.log'}", "log_caller=true",
                   "op", "monitor", "interval=5s"]):
        ok(lab, "configure", *words)
    lab.fence_log = work / "fence.log"
    return lab


def place_on(lab, node: str, *rscs: str) -> None:
    """Start resources on ``node`` and leave them there by stickiness alone."""
    for rsc in rscs:
        ok(lab, "configure", "primitive", rsc, "ocf:paceline:Dummy", "op", "monitor", "interval=2s")
        ok(lab, "configure", "location", f"pin-{rsc}", rsc, "200:", node)
    for rsc in rscs:
        until(partial(runs_only_on, lab, rsc, node), f"{rsc} runs on {node}", PATIENCE, POLL)
        ok(lab, "configure", "delete", f"pin-{rsc}")


def test_node_fence_reboots_the_node_from_the_other_one(fencing_lab):
    lab = fencing_lab
    dc = dc_of(lab)
    victim = "secondary" if dc == "primary" else "primary"
    place_on(lab, victim, "fd1", "fd2")
    refused = lab.paceline("node", "fence", victim)  # a script is never asked: it must say -y
    assert refused.returncode == 1 and "confirm with -y" in refused.stderr and "Traceback" not in refused.stderr
    state = Lab.load(lab.dir)
    with BusRecorder(state) as rec:
        assert "fencing of node" in ok(lab, "node", "fence", victim, "-y")
        event = until(lambda: rec.fenced(victim), "the DC reports the fencing", PATIENCE, POLL)[0]
        until(lambda: online(lab, victim), f"{victim} is back online", PATIENCE, POLL)
        # Recovered: started again after the fencing (the emulated reboot comes back at once, so the
        # scheduler may place one of them on the rebooted node again), and running exactly once.
        fenced_at = rec.index(lambda kind, body: kind == "fenced")
        for rsc in ("fd1", "fd2"):
            until(partial(rec.started, rsc, fenced_at), f"{rsc} started again", PATIENCE, POLL)
            until(partial(runs_once, lab, rsc), f"{rsc} runs on one node", PATIENCE, POLL)
    assert event["result"] == "ok" and event["action"] == "reboot" and event["by"] == dc
    assert event["device"] == "fencer" and event["dc"] == dc
    executor_pid = state.procs[f"{dc}/executor"]
    assert [line for line in fence_log(lab.fence_log) if f" reboot {victim} by-pid={executor_pid}" in line]
    history = asyncio.run(status_history(state, victim))
    fenced = [i for i, ns in enumerate(history) if ns.get("crm-debug-origin") == "paceline-fencer"]
    assert fenced, "the victim was never recorded as fenced"
    down = history[fenced[-1]]
    assert (down.get("crmd"), down.get("in_ccm"), down.get("join"), down.get("expected")) == (
        "offline", "false", "down", "down")
    assert down.find("lrm") is None and not down.findall(".//nvpair")  # no history, no terminate
    assert any(ns.get("crmd") == "online" for ns in history[fenced[-1] + 1:])


def test_a_crashed_node_is_fenced_before_its_resources_start_elsewhere(fencing_lab):
    lab = fencing_lab
    dc = dc_of(lab)
    victim = "secondary" if dc == "primary" else "primary"
    place_on(lab, victim, "cd1")
    state = Lab.load(lab.dir)
    before = len(fence_log(lab.fence_log))
    with BusRecorder(state) as rec:
        ok(lab, "lab", "kill", victim)
        until(lambda: running_on(lab, "cd1") == [dc], "cd1 runs on the survivor", 30, POLL)
        fenced_at = rec.index(lambda kind, body: kind == "fenced" and body["target"] == victim
                              and body["result"] == "ok")
        started_at = rec.index(lambda kind, body: kind == "op.result" and body["rsc"] == "cd1"
                               and body["task"] == "start" and body["node"] == dc)
    assert fenced_at < started_at, "cd1 started elsewhere before its node was fenced"
    new_lines = fence_log(lab.fence_log)[before:]
    assert any(f" reboot {victim} by-pid={state.procs[f'{dc}/executor']}" in line for line in new_lines)
    text = ok(lab, "status")
    assert re.search(rf"OFFLINE: \[ {victim} \]", text), text
    ok(lab, "lab", "revive", victim)


def test_a_fenced_dc_hands_the_role_over(fencing_lab):
    lab = fencing_lab
    for node in ("primary", "secondary"):
        until(partial(online, lab, node), f"{node} online", 30, POLL)
    dc = dc_of(lab)
    other = "secondary" if dc == "primary" else "primary"
    state = Lab.load(lab.dir)
    with BusRecorder(state) as rec:
        assert "fencing of node" in ok(lab, "node", "fence", dc, "-y")
        until(lambda: [e for e in rec.fenced(dc) if e["result"] == "ok"], f"{dc} was fenced", PATIENCE, POLL)
    until(lambda: dc_of(lab) == other, f"{other} is DC", 20, POLL)
    until(lambda: online(lab, dc), f"{dc} is back online", 30, POLL)
    assert dc_of(lab) == other     # the rebooted node does not take the role back
