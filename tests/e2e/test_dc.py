"""The DC role on a lab cluster: takeover when the DC's node dies, and what a new DC cleans up."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest
from paceline.lab.lab import Lab
from paceline.shared import bus, cib
from paceline.shared.subjects import Subjects

from tests.support.wait import until

pytestmark = pytest.mark.e2e


def status(lab) -> str:
    out = lab.paceline("status")
    assert out.returncode == 0, out.stderr
    return out.stdout


def wait_for(lab, what: str, check: Callable[[str], object], timeout: float = 20.0) -> str:
    """The status text once ``check`` holds for it; a timeout shows the last status seen."""
    def status_if_so() -> str:
        text = status(lab)
        assert check(text), text
        return text

    return until(status_if_so, what, timeout, interval=0.2)


def dc_of(text: str) -> str:
    m = re.search(r"Current DC: (\S+)", text)
    assert m, text
    return m.group(1)


async def dc_term(state: Lab, node: str) -> int:
    nc = await state.connect(name="test")
    try:
        reply = await bus.request(nc, Subjects(state.cluster).policy(f"status.{node}"), "query")
        return int(reply["term"])
    finally:
        await nc.close()


async def mark_online(state: Lab, node: str) -> None:
    nc = await state.connect(name="test")
    try:
        await bus.request(nc, Subjects(state.cluster).cib("patch"), "patch", {
            "node": node, "client": "test", "ops": [{"op": "node_state", "attrs": dict(cib.NODE_STATE_MEMBER)}]})
    finally:
        await nc.close()


def test_dc_takeover_and_stale_node_cleanup(lab):
    first = dc_of(wait_for(lab, "a DC is elected", lambda t: "Current DC: NONE" not in t))
    state = Lab.load(lab.dir)
    term = asyncio.run(dc_term(state, first))
    # A node the CIB says is online although nothing runs there: a leftover from before a full restart.
    assert lab.paceline("configure", "node", "ghost").returncode == 0
    asyncio.run(mark_online(state, "ghost"))
    wait_for(lab, "the stale entry shows online", lambda t: "ghost" in t and "OFFLINE" not in t)
    survivor = "secondary" if first == "primary" else "primary"
    assert lab.paceline("lab", "kill", first).returncode == 0
    text = wait_for(lab, f"{survivor} is DC", lambda t: dc_of(t) == survivor)
    assert asyncio.run(dc_term(Lab.load(lab.dir), survivor)) > term
    # Out of the membership, not cleanly down: with fencing enabled (the default) and no quorum to fence
    # them, both are unclean, as Pacemaker shows nodes that left without a clean shutdown.
    text = wait_for(lab, "the new DC marks the ghost out of the membership",
                    lambda t: "Node ghost: UNCLEAN (offline)" in t)
    assert f"Node {first}: UNCLEAN (offline)" in text, text
    assert lab.paceline("lab", "revive", first).returncode == 0
    wait_for(lab, "both nodes online again", lambda t: re.search(r"Online: \[ primary secondary \]", t))
