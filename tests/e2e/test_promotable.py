"""Promotable clones on a running lab: ``configure ms`` with the bundled ``ocf:paceline:Stateful`` agent.

The agent publishes its promotion score with ``paceline node status-attr``
(as Pacemaker's agents do with ``crm_master``); the DC promotes the instance
with the best score, keeps a floating resource with the promoted instance,
moves the promoted role when its node goes into standby, recovers a promoted
instance that fails in place, and follows ``resource demote``/``promote``.

Beside them, other clone kinds on the same lab: a globally unique clone, each
instance a resource of its own, known to the executor (and so to its agent,
and in the CIB status) as ``RSC:N``; and a promotable clone of a group, whose
instance with the best summed promotion scores is promoted, every member of
it, on one node, and moved by standby.
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


# ---------------------------------------------------------------- other clone kinds

CLONE_NODES = ("primary", "secondary")


def active(lab, prefix: str) -> dict[str, list[str]]:
    """id -> nodes, for every resource whose id starts with ``prefix`` and runs somewhere."""
    return {r["id"]: r["active_on"] for r in walk(status_json(lab)["resources"])
            if r["id"].startswith(prefix) and r.get("active_on")}


def kind_roles(lab, prefix: str) -> dict[str, tuple[str, str]]:
    """id -> (node, role) of the running resources whose id starts with ``prefix``."""
    return {r["id"]: (r["active_on"][0], r["role"]) for r in walk(status_json(lab)["resources"])
            if r["id"].startswith(prefix) and r.get("active_on")}


def test_a_globally_unique_clone_runs_each_instance_under_its_own_id(mslab):
    lab = mslab
    ok(lab, "configure", "primitive", "ud", "ocf:paceline:Dummy", "op", "monitor", "interval=2s", "timeout=10s")
    ok(lab, "configure", "clone", "ud-clone", "ud", "meta", "globally-unique=true", "clone-max=2")
    def both() -> dict[str, list[str]]:
        now = active(lab, "ud:")
        return now if sorted(now) == ["ud:0", "ud:1"] else {}

    placed = until(both, "both instances running", PATIENCE, POLL)
    assert sorted(n for nodes in placed.values() for n in nodes) == sorted(CLONE_NODES)   # one per node
    # The agent ran as "ud:N": its state files are named by the instance, not by the base id. (If the DC
    # started the primitive before it was cloned, that "ud" is an orphan now, and is stopped.)
    until(lambda: sorted(p.name for p in lab.dir.rglob("Dummy-ud*.state")) == ["Dummy-ud:0.state",
                                                                               "Dummy-ud:1.state"],
          "one state file per instance, named by the instance", PATIENCE, POLL)
    text = " ".join(ok(lab, "status").split())
    assert "Clone Set: ud-clone [ud] (unique):" in text
    # One node in standby: with one instance per node, one instance stops; the other keeps running.
    node = placed["ud:1"][0]
    ok(lab, "node", "standby", node)
    until(lambda: list(active(lab, "ud:")) == ["ud:0"] or list(active(lab, "ud:")) == ["ud:1"],
          "one instance left", PATIENCE, POLL)
    assert all(nodes != [node] for nodes in active(lab, "ud:").values())
    ok(lab, "node", "online", node)
    until(lambda: len(active(lab, "ud:")) == 2, "both running again", PATIENCE, POLL)
    ok(lab, "resource", "stop", "ud-clone")
    until(lambda: not active(lab, "ud:"), "stopped", PATIENCE, POLL)
    ok(lab, "configure", "delete", "ud-clone")


def test_a_promotable_clone_of_a_group_promotes_every_member_on_one_node(mslab):
    lab = mslab
    for member in ("gs1", "gs2"):
        ok(lab, "configure", "primitive", member, "ocf:paceline:Stateful",
           "op", "monitor", "interval=2s", "role=Promoted", "timeout=10s",
           "op", "monitor", "interval=3s", "role=Unpromoted", "timeout=10s")
    ok(lab, "configure", "group", "gsg", "gs1", "gs2")
    ok(lab, "configure", "clone", "gsg-clone", "gsg", "meta", "promotable=true")

    def settled() -> str:
        now = kind_roles(lab, "gs")
        promoted = {node for node, role in now.values() if role == "Promoted"}
        unpromoted = {node for node, role in now.values() if role == "Unpromoted"}
        if len(now) == 4 and len(promoted) == 1 and len(unpromoted) == 1 and promoted != unpromoted:
            return promoted.pop()
        return ""

    node = until(settled, "one group instance promoted (both members), the other unpromoted", PATIENCE, POLL)
    other = ({"primary", "secondary"} - {node}).pop()
    # Both members of the promoted instance run promoted on that node.
    promoted_members = sorted(rid.split(":")[0] for rid, (where, role) in kind_roles(lab, "gs").items()
                              if role == "Promoted" and where == node)
    assert promoted_members == ["gs1", "gs2"]
    # Standby moves the promoted role (the whole group instance) to the other node.
    ok(lab, "node", "standby", node)
    until(lambda: sorted(kind_roles(lab, "gs").values()) == [(other, "Promoted"), (other, "Promoted")],
          "both members promoted on the other node", PATIENCE, POLL)
    ok(lab, "node", "online", node)
    until(lambda: len(kind_roles(lab, "gs")) == 4, "the returning node runs the other instance", PATIENCE, POLL)
    ok(lab, "resource", "stop", "gsg-clone")
    until(lambda: not kind_roles(lab, "gs"), "stopped", PATIENCE, POLL)
    ok(lab, "configure", "delete", "gsg-clone")
