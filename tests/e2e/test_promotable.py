"""Promotable clones on a running lab: ``configure ms`` with the bundled ``ocf:paceline:Stateful`` agent.

The agent publishes its promotion score with ``paceline node status-attr``
(as Pacemaker's agents do with ``crm_master``); the DC promotes the instance
with the best score, keeps a floating resource with the promoted instance,
moves the promoted role when its node goes into standby, recovers a promoted
instance that fails in place, and follows ``resource demote``/``promote``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli_helpers import ok, status_json, wait_until, walk

pytestmark = pytest.mark.e2e


def roles(lab) -> dict[str, str]:
    """node -> role of the instance running there."""
    out: dict[str, str] = {}
    for rsc in walk(status_json(lab)["resources"]):
        if rsc["id"].startswith("st:"):
            for node in rsc["active_on"]:
                out[node] = rsc["role"]
    return out


def where(lab, rid: str) -> list[str]:
    return next((r["active_on"] for r in walk(status_json(lab)["resources"]) if r["id"] == rid), [])


def promoted_on(lab) -> str | None:
    found = [n for n, role in roles(lab).items() if role == "Promoted"]
    return found[0] if len(found) == 1 else None


def eventually(what: str, check, timeout: float = 40.0):
    return wait_until(what, check, timeout, interval=0.3)


@pytest.fixture(scope="module")
def mslab(lab):
    ok(lab, "configure", "property", "stonith-enabled=false")
    ok(lab, "configure", "primitive", "st", "ocf:paceline:Stateful",
       "op", "monitor", "interval=2s", "role=Promoted", "timeout=10s",
       "op", "monitor", "interval=3s", "role=Unpromoted", "timeout=10s")
    ok(lab, "configure", "ms", "ms-st", "st")
    ok(lab, "configure", "primitive", "vip", "ocf:paceline:Dummy")
    ok(lab, "configure", "colocation", "vip-with-promoted", "inf:", "vip", "ms-st:Master")
    ok(lab, "configure", "order", "promote-then-vip", "Mandatory:", "ms-st:promote", "vip:start")
    return lab


def test_one_instance_is_promoted_and_the_floating_resource_follows_it(mslab):
    lab = mslab
    node = eventually("one instance promoted, one unpromoted",
                      lambda: promoted_on(lab) if sorted(roles(lab).values()) == ["Promoted", "Unpromoted"]
                      else None)
    eventually("vip with the promoted instance", lambda: where(lab, "vip") == [node])
    text = " ".join(ok(lab, "status").split())
    other = ({"primary", "secondary"} - {node}).pop()
    assert "Clone Set: ms-st [st] (promotable):" in text
    assert f"Promoted: [ {node} ]" in text and f"Unpromoted: [ {other} ]" in text
    # The agent published its promotion scores (promoted 10, unpromoted 5) in the nodes' status.
    assert "value=10" in ok(lab, "node", "status-attr", node, "show", "master-st")
    assert "value=5" in ok(lab, "node", "status-attr", other, "show", "master-st")


def test_standby_moves_the_promoted_role_and_the_floating_resource(mslab):
    lab = mslab
    node = eventually("a promoted instance", lambda: promoted_on(lab))
    other = ({"primary", "secondary"} - {node}).pop()
    ok(lab, "node", "standby", node)
    eventually("promoted on the other node, nothing left on the standby node",
               lambda: roles(lab) == {other: "Promoted"})
    eventually("vip moved along", lambda: where(lab, "vip") == [other])
    ok(lab, "node", "online", node)
    eventually("the returning node runs an unpromoted instance, the promoted one stays",
               lambda: roles(lab) == {other: "Promoted", node: "Unpromoted"})
    assert where(lab, "vip") == [other]


def test_demote_and_promote_the_clone(mslab):
    lab = mslab
    eventually("a promoted instance", lambda: promoted_on(lab))
    ok(lab, "resource", "demote", "ms-st")
    eventually("every instance unpromoted", lambda: sorted(roles(lab).values()) == ["Unpromoted", "Unpromoted"])
    eventually("vip stopped: nothing promoted to follow", lambda: where(lab, "vip") == [])
    ok(lab, "resource", "promote", "ms-st")
    node = eventually("promoted again", lambda: promoted_on(lab))
    eventually("vip back with it", lambda: where(lab, "vip") == [node])


def test_a_promoted_instance_that_fails_is_recovered_in_the_promoted_role(mslab):
    lab = mslab
    node = eventually("a promoted instance", lambda: promoted_on(lab))
    states = [p for p in lab.dir.rglob("Stateful-st.state") if p.read_text().strip() == "promoted"]
    assert len(states) == 1, f"one promoted state file expected, found {states}"
    states[0].unlink()              # the service dies behind the cluster's back
    eventually("a failure counted on the promoted node",
               lambda: "value=0" not in ok(lab, "resource", "failcount", "st", "show", node), timeout=20)
    eventually("promoted again on the same node (stickiness and score), the other still unpromoted",
               lambda: roles(lab) == {node: "Promoted", ({"primary", "secondary"} - {node}).pop(): "Unpromoted"})
    eventually("vip with it", lambda: where(lab, "vip") == [node])
    ok(lab, "resource", "cleanup", "ms-st")


HEARTBEAT_STATEFUL = Path("/usr/lib/ocf/resource.d/heartbeat/Stateful")


@pytest.mark.skipif(not HEARTBEAT_STATEFUL.exists(), reason="needs Debian's resource-agents (ocf:heartbeat:Stateful)")
def test_debians_stateful_agent_runs_unmodified_as_a_promotable_clone(mslab):
    """ocf:heartbeat:Stateful publishes its score with ${HA_SBIN_DIR}/crm_attribute: the executor's stand-in."""
    lab = mslab
    ok(lab, "configure", "primitive", "hst", "ocf:heartbeat:Stateful",
       "op", "monitor", "interval=2s", "role=Promoted", "timeout=10s",
       "op", "monitor", "interval=3s", "role=Unpromoted", "timeout=10s")
    ok(lab, "configure", "clone", "hst-clone", "hst", "meta", "promotable=true")

    def hst_roles() -> list[str]:
        return sorted(r["role"] for r in walk(status_json(lab)["resources"])
                      if r["id"].startswith("hst:") and r["active_on"])

    eventually("one Debian Stateful instance promoted, one unpromoted",
               lambda: hst_roles() == ["Promoted", "Unpromoted"])
    ok(lab, "resource", "stop", "hst-clone")
    eventually("stopped", lambda: hst_roles() == [])
    ok(lab, "configure", "delete", "hst-clone")


def test_with_notify_every_instance_hears_of_a_promotion(mslab):
    lab = mslab
    node = eventually("a promoted instance", lambda: promoted_on(lab))
    other = ({"primary", "secondary"} - {node}).pop()
    ok(lab, "resource", "meta", "ms-st", "set", "notify", "true")
    ok(lab, "node", "standby", node)
    eventually("promoted on the other node", lambda: roles(lab) == {other: "Promoted"})
    logs = {p: p.read_text() for p in lab.dir.rglob("Stateful-st.state.notify")}
    heard = [text for text in logs.values() if f"pre-promote start= stop= promote={other}" in " ".join(text.split())]
    assert heard, f"no instance was told of the promotion: {logs}"
    ok(lab, "node", "online", node)
    eventually("both running again", lambda: len(roles(lab)) == 2)
    ok(lab, "resource", "meta", "ms-st", "delete", "notify")
