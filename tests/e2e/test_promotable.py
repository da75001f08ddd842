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

from tests.e2e.cli_helpers import ok, status_json, walk
from tests.support.wait import until

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


def promoted_on(lab) -> str:
    """The node of the one promoted instance ("" unless exactly one is promoted)."""
    found = [n for n, role in roles(lab).items() if role == "Promoted"]
    return found[0] if len(found) == 1 else ""


#: How long a wait may take (generous for slow machines), and how often it looks.
PATIENCE = 40.0
POLL = 0.3


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
    node = until(lambda: promoted_on(lab) if sorted(roles(lab).values()) == ["Promoted", "Unpromoted"] else "",
                 "one instance promoted, one unpromoted", PATIENCE, POLL)
    until(lambda: where(lab, "vip") == [node], "vip with the promoted instance", PATIENCE, POLL)
    text = " ".join(ok(lab, "status").split())
    other = ({"primary", "secondary"} - {node}).pop()
    assert "Clone Set: ms-st [st] (promotable):" in text
    assert f"Promoted: [ {node} ]" in text and f"Unpromoted: [ {other} ]" in text
    # The agent published its promotion scores (promoted 10, unpromoted 5) in the nodes' status.
    assert "value=10" in ok(lab, "node", "status-attr", node, "show", "master-st")
    assert "value=5" in ok(lab, "node", "status-attr", other, "show", "master-st")


def test_standby_moves_the_promoted_role_and_the_floating_resource(mslab):
    lab = mslab
    node = until(lambda: promoted_on(lab), "a promoted instance", PATIENCE, POLL)
    other = ({"primary", "secondary"} - {node}).pop()
    ok(lab, "node", "standby", node)
    until(lambda: roles(lab) == {other: "Promoted"},
          "promoted on the other node, nothing left on the standby node", PATIENCE, POLL)
    until(lambda: where(lab, "vip") == [other], "vip moved along", PATIENCE, POLL)
    ok(lab, "node", "online", node)
    until(lambda: roles(lab) == {other: "Promoted", node: "Unpromoted"},
          "the returning node runs an unpromoted instance, the promoted one stays", PATIENCE, POLL)
    assert where(lab, "vip") == [other]


def test_demote_and_promote_the_clone(mslab):
    lab = mslab
    until(lambda: promoted_on(lab), "a promoted instance", PATIENCE, POLL)
    ok(lab, "resource", "demote", "ms-st")
    until(lambda: sorted(roles(lab).values()) == ["Unpromoted", "Unpromoted"], "every instance unpromoted",
          PATIENCE, POLL)
    until(lambda: where(lab, "vip") == [], "vip stopped: nothing promoted to follow", PATIENCE, POLL)
    ok(lab, "resource", "promote", "ms-st")
    node = until(lambda: promoted_on(lab), "promoted again", PATIENCE, POLL)
    until(lambda: where(lab, "vip") == [node], "vip back with it", PATIENCE, POLL)


def test_a_promoted_instance_that_fails_is_recovered_in_the_promoted_role(mslab):
    lab = mslab
    node = until(lambda: promoted_on(lab), "a promoted instance", PATIENCE, POLL)
    states = [p for p in lab.dir.rglob("Stateful-st.state") if p.read_text().strip() == "promoted"]
    assert len(states) == 1, f"one promoted state file expected, found {states}"
    states[0].unlink()              # the service dies behind the cluster's back
    until(lambda: "value=0" not in ok(lab, "resource", "failcount", "st", "show", node),
          "a failure counted on the promoted node", 20, POLL)
    until(lambda: roles(lab) == {node: "Promoted", ({"primary", "secondary"} - {node}).pop(): "Unpromoted"},
          "promoted again on the same node (stickiness and score), the other still unpromoted", PATIENCE, POLL)
    until(lambda: where(lab, "vip") == [node], "vip with it", PATIENCE, POLL)
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

    until(lambda: hst_roles() == ["Promoted", "Unpromoted"], "one Debian Stateful instance promoted, one unpromoted",
          PATIENCE, POLL)
    ok(lab, "resource", "stop", "hst-clone")
    until(lambda: hst_roles() == [], "stopped", PATIENCE, POLL)
    ok(lab, "configure", "delete", "hst-clone")


def test_with_notify_every_instance_hears_of_a_promotion(mslab):
    lab = mslab
    node = until(lambda: promoted_on(lab), "a promoted instance", PATIENCE, POLL)
    other = ({"primary", "secondary"} - {node}).pop()
    ok(lab, "resource", "meta", "ms-st", "set", "notify", "true")
    ok(lab, "node", "standby", node)
    until(lambda: roles(lab) == {other: "Promoted"}, "promoted on the other node", PATIENCE, POLL)
    logs = {p: p.read_text() for p in lab.dir.rglob("Stateful-st.state.notify")}
    heard = [text for text in logs.values() if f"pre-promote start= stop= promote={other}" in " ".join(text.split())]
    assert heard, f"no instance was told of the promotion: {logs}"
    ok(lab, "node", "online", node)
    until(lambda: len(roles(lab)) == 2, "both running again", PATIENCE, POLL)
    ok(lab, "resource", "meta", "ms-st", "delete", "notify")
