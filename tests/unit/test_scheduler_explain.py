"""``explain``: every contribution to a resource's score, per node, on small hand-written CIBs."""

from __future__ import annotations

import json

import pytest
from paceline.policy.scheduler.explain import explain
from paceline.policy.simulate import run as simulate_run
from paceline.shared.cib import parse_cib
from paceline.shared.lrm import params_digest

from tests.support.cibs import NOW, both_online, cib, lrm_rsc, node_state, op, prim, running


def why(xml: str, rsc: str):
    return explain(parse_cib(xml), rsc, now=NOW)


def sources(ex, part: str, node: str) -> list[tuple[str, str]]:
    """(change, source) pairs of one resource's table on one node."""
    doc = ex.to_dict()
    table = next(p for p in doc["parts"] if p["id"] == part)
    entry = next(n for n in table["nodes"] if n["node"] == node)
    return [(c["change"], c["source"]) for c in entry["contributions"]]


def final(ex, part: str, node: str) -> str | None:
    table = next(p for p in ex.to_dict()["parts"] if p["id"] == part)
    return next(n for n in table["nodes"] if n["node"] == node)["score"]


def test_location_and_stickiness_add_up_and_the_best_node_is_chosen():
    cons = '<rsc_location id="prefer-2" rsc="web" node="node2" score="200"/>'
    status = both_online(running("web"))
    ex = why(cib(prim("web", meta={"resource-stickiness": "100"}), status, cons), "web")
    assert sources(ex, "web", "node1") == [("= 0", "symmetric cluster (node score)"),
                                          ("+100", "resource-stickiness=100 (active here)")]
    assert sources(ex, "web", "node2") == [("= 0", "symmetric cluster (node score)"),
                                          ("+200", "location prefer-2")]
    assert final(ex, "web", "node1") == "100" and final(ex, "web", "node2") == "200"
    part = ex.parts[0]
    assert part.assigned == "node2" and part.running_on == ["node1"]
    assert part.action == "Move web ( node1 -> node2 )"
    text = ex.text()
    assert "node2  [available]  final 200  <- chosen" in text
    assert "location prefer-2" in text and "goes to node2 (score 200)" in text


def test_colocation_shows_on_both_sides():
    cons = ('<rsc_location id="db-on-1" rsc="db" node="node1" score="50"/>'
            '<rsc_colocation id="web-with-db" rsc="web" with-rsc="db" score="INFINITY"/>')
    xml = cib(prim("db") + prim("web"), both_online(), cons)
    dependent = why(xml, "web")
    assert ("0 -> -INFINITY", "colocation web-with-db with db (score INFINITY; db on node1)") in \
        sources(dependent, "web", "node2")
    assert dependent.parts[0].assigned == "node1"
    primary = why(xml, "db")
    # The dependent has no preference of its own, so following it changes nothing on the primary.
    assert all("web-with-db" not in s for _, s in sources(primary, "db", "node1"))
    assert primary.parts[0].assigned == "node1"


def test_dependent_preference_flows_to_the_primary():
    cons = ('<rsc_location id="web-on-2" rsc="web" node="node2" score="1000"/>'
            '<rsc_colocation id="web-with-db" rsc="web" with-rsc="db" score="500"/>')
    ex = why(cib(prim("db") + prim("web"), both_online(), cons), "db")
    # 500/INFINITY of web's 1000 on node2, rounded to 1 (never to 0).
    assert ("+1", "colocation web-with-db: web follows it (score 500, its preferences weighed)") in \
        sources(ex, "db", "node2")
    assert ex.parts[0].assigned == "node2"


def test_failure_ban_from_migration_threshold():
    history = lrm_rsc("r1", op("r1", "start", call=1, digest=params_digest({})),
                      op("r1", "monitor", rc=1, call=2, interval=10000, expected=0))
    status = node_state("node1", lrm=history, attrs={"fail-count-r1#monitor_10000": "3"}) + node_state("node2")
    ex = why(cib(prim("r1", meta={"migration-threshold": "3"}, monitor="10s"), status), "r1")
    assert ("0 -> -INFINITY", "3 failures reached migration-threshold=3") in sources(ex, "r1", "node1")
    part = ex.parts[0]
    assert part.assigned == "node2"
    assert "migration-threshold=3 (failures node1: 3)" in part.notes
    assert part.action == "Recover r1 ( node1 -> node2 )"


def test_standby_and_offline_nodes_are_shown_unusable():
    status = node_state("node1", attrs={"standby": "on"}) + node_state("node2") + node_state("node3", online=False)
    ex = why(cib(prim("r1"), status, nodes=("node1", "node2", "node3")), "r1")
    conditions = {n.node: (n.condition, n.usable) for n in ex.parts[0].nodes}
    assert conditions == {"node1": ("standby", False), "node2": ("available", True), "node3": ("offline", False)}
    assert "node1  [standby]  final 0; unusable: node standby" in ex.text()
    assert ex.parts[0].assigned == "node2"


def test_group_lists_the_group_and_each_member():
    group = '<group id="g">' + prim("a") + prim("b") + "</group>"
    cons = '<rsc_location id="g-on-2" rsc="g" node="node2" score="10"/>'
    ex = why(cib(group, both_online(), cons), "g")
    assert [p.id for p in ex.parts] == ["g", "a", "b"]
    assert ("+10", "location g-on-2 (on group g)") in sources(ex, "a", "node2")
    assert ("0 -> -INFINITY", "colocation #group-members with a (score INFINITY; a on node2)") in \
        sources(ex, "b", "node1")
    assert any(n.startswith("member 2 of group g: must run with a") for n in ex.parts[2].notes)


def test_utilization_is_listed_when_declared():
    rsc = ('<primitive id="vm" class="ocf" provider="heartbeat" type="Dummy">'
           '<utilization id="vm-u"><nvpair id="vm-u-cpu" name="cpu" value="2"/></utilization></primitive>')
    ex = why(cib(rsc, both_online(), options={"placement-strategy": "balanced"}), "vm")
    assert ex.parts[0].utilization == {"cpu": "2"}
    assert "utilization: cpu=2" in ex.text() and "placement-strategy=balanced" in ex.text()


def test_unknown_resource_raises_key_error():
    with pytest.raises(KeyError, match="no resource 'nope'"):
        why(cib(prim("r1"), both_online()), "nope")


def test_to_dict_is_json():
    ex = why(cib(prim("r1"), both_online()), "r1")
    doc = json.loads(json.dumps(ex.to_dict()))
    assert doc["resource"] == "r1" and doc["parts"][0]["assigned"] == "node1"


def test_simulate_explain_option(tmp_path):
    path = tmp_path / "cib.xml"
    path.write_text(cib(prim("r1"), both_online()))
    code, out, err = simulate_run(["-x", str(path), "--explain", "r1"])
    assert code == 0 and out.startswith("r1 (ocf:heartbeat:Dummy): not running") and err == ""
    code, out, _ = simulate_run(["-x", str(path), "--explain", "r1", "--output-as", "json"])
    assert code == 0 and json.loads(out)["parts"][0]["id"] == "r1"
    code, out, err = simulate_run(["-x", str(path), "--explain", "nope"])
    assert code == 1 and out == "" and err == "paceline simulate: no resource 'nope' in the CIB\n"
