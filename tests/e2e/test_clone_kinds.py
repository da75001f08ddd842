"""Clone kinds beyond the plain anonymous clone, on a running lab with real agents.

- A globally unique clone: each instance is a resource of its own, known to
  the executor (and so to its agent, and in the CIB status) as ``RSC:N``.
- A promotable clone of a group: the group instance whose members publish the
  best promotion scores is promoted, every member of it, on one node; the
  other instance runs unpromoted; standby moves the promoted role.
"""

from __future__ import annotations

import pytest

from tests.e2e.cli_helpers import ok, status_json, walk
from tests.support.wait import until

pytestmark = pytest.mark.e2e

#: How long a wait may take (generous for slow machines), and how often it looks.
PATIENCE = 40.0
POLL = 0.3
NODES = ("primary", "secondary")


def active(lab, prefix: str) -> dict[str, list[str]]:
    """id -> nodes, for every resource whose id starts with ``prefix`` and runs somewhere."""
    return {r["id"]: r["active_on"] for r in walk(status_json(lab)["resources"])
            if r["id"].startswith(prefix) and r.get("active_on")}


def roles(lab, prefix: str) -> dict[str, tuple[str, str]]:
    """id -> (node, role) of the running resources whose id starts with ``prefix``."""
    return {r["id"]: (r["active_on"][0], r["role"]) for r in walk(status_json(lab)["resources"])
            if r["id"].startswith(prefix) and r.get("active_on")}


@pytest.fixture(scope="module")
def clab(lab):
    ok(lab, "configure", "property", "stonith-enabled=false")
    return lab


def test_a_globally_unique_clone_runs_each_instance_under_its_own_id(clab):
    lab = clab
    ok(lab, "configure", "primitive", "ud", "ocf:paceline:Dummy", "op", "monitor", "interval=2s", "timeout=10s")
    ok(lab, "configure", "clone", "ud-clone", "ud", "meta", "globally-unique=true", "clone-max=2")
    def both() -> dict[str, list[str]]:
        now = active(lab, "ud:")
        return now if sorted(now) == ["ud:0", "ud:1"] else {}

    placed = until(both, "both instances running", PATIENCE, POLL)
    assert sorted(n for nodes in placed.values() for n in nodes) == sorted(NODES)   # one per node
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


def test_a_promotable_clone_of_a_group_promotes_every_member_on_one_node(clab):
    lab = clab
    for member in ("gs1", "gs2"):
        ok(lab, "configure", "primitive", member, "ocf:paceline:Stateful",
           "op", "monitor", "interval=2s", "role=Promoted", "timeout=10s",
           "op", "monitor", "interval=3s", "role=Unpromoted", "timeout=10s")
    ok(lab, "configure", "group", "gsg", "gs1", "gs2")
    ok(lab, "configure", "clone", "gsg-clone", "gsg", "meta", "promotable=true")

    def settled() -> str:
        now = roles(lab, "gs")
        promoted = {node for node, role in now.values() if role == "Promoted"}
        unpromoted = {node for node, role in now.values() if role == "Unpromoted"}
        if len(now) == 4 and len(promoted) == 1 and len(unpromoted) == 1 and promoted != unpromoted:
            return promoted.pop()
        return ""

    node = until(settled, "one group instance promoted (both members), the other unpromoted", PATIENCE, POLL)
    other = ({"primary", "secondary"} - {node}).pop()
    # Both members of the promoted instance run promoted on that node.
    promoted_members = sorted(rid.split(":")[0] for rid, (where, role) in roles(lab, "gs").items()
                              if role == "Promoted" and where == node)
    assert promoted_members == ["gs1", "gs2"]
    # Standby moves the promoted role (the whole group instance) to the other node.
    ok(lab, "node", "standby", node)
    until(lambda: sorted(roles(lab, "gs").values()) == [(other, "Promoted"), (other, "Promoted")],
          "both members promoted on the other node", PATIENCE, POLL)
    ok(lab, "node", "online", node)
    until(lambda: len(roles(lab, "gs")) == 4, "the returning node runs the other instance", PATIENCE, POLL)
    ok(lab, "resource", "stop", "gsg-clone")
    until(lambda: not roles(lab, "gs"), "stopped", PATIENCE, POLL)
    ok(lab, "configure", "delete", "gsg-clone")
