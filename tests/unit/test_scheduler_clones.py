"""Anonymous clones of a primitive or a group: one instance per node, kept where they run, shown as a clone set.

Every CIB's Transition Summary here is also a scheduler case (tests/scheduler_cases/xml/clone-*.xml) where
crm_simulate prints the same, with the other clone CIBs whose summary is all there is to check; these tests
check the graph and the status lines.
"""

from __future__ import annotations

from paceline.shared.cluster import render_status
from paceline.shared.lrm import pacemaker_digest

from tests.support.cibs import both_online, cib, folded, lrm_rsc, node_state, op, prim, run, up

CLONE = '<clone id="d-clone">' + prim("d") + "</clone>"


def test_a_clone_starts_one_instance_on_every_node():
    result = run(cib(CLONE, both_online()))
    assert folded(result) == ["* Start d:0 ( node1 )", "* Start d:1 ( node2 )"]
    probes = [a for a in result.graph.actions if a.task == "monitor" and a.interval_ms == 0]
    assert sorted((a.rsc, a.node) for a in probes) == [("d", "node1"), ("d", "node2")]   # once per node, by base id
    for start in (a for a in result.graph.actions if a.task == "start" and not a.pseudo):
        assert start.rsc == "d" and {p.id for p in probes} <= set(start.inputs)


def test_instances_stay_where_they_run_and_anonymous_history_is_an_instance():
    history = lrm_rsc("d", op("d", "start", digest=pacemaker_digest({})))   # recorded by its base id
    result = run(cib(CLONE, both_online("", history)))
    assert folded(result) == ["* Start d:1 ( node1 )"]
    status = [" ".join(line.split()) for line in render_status(result.state)]
    assert "* Clone Set: d-clone [d]:" in status and "* Started: [ node2 ]" in status
    assert "* Stopped: [ node1 ]" in status


def test_a_promotable_clone_of_a_group_starts_its_members_as_crm_simulate_does():
    # crm_simulate starts q:0 and q:1 (no promotion score published: nothing is promoted).
    promotable_group = '<clone id="g-clone"><meta_attributes id="gm"><nvpair id="gm1" name="promotable" ' \
        'value="true"/></meta_attributes><group id="g">' + prim("q") + "</group></clone>"
    result = run(cib(promotable_group, both_online()))
    assert folded(result) == ["* Start q:0 ( node1 )", "* Start q:1 ( node2 )"]
    assert not any("promotable" in w for w in result.state.warnings)


def test_a_primitive_colocated_with_and_ordered_after_a_clone():
    dep = prim("web")
    cons = ('<rsc_colocation id="c" rsc="web" with-rsc="d-clone" score="INFINITY"/>'
            '<rsc_order id="o" first="d-clone" then="web"/>'
            '<rsc_location id="no-d" rsc="d-clone" node="node1" score="-INFINITY"/>')
    result = run(cib(CLONE + dep, both_online(), cons))
    assert folded(result) == ["* Start d:0 ( node2 )", "* Start web ( node2 )"]
    acts = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    web_start = acts[("web", "start", "node2")]
    running = acts[("d-clone", "running", None)]
    assert running.id in web_start.inputs     # web waits for the clone to be running


# ---------------------------------------------------------------- clones of a group

GROUP_CLONE = '<clone id="cl"><group id="g">' + prim("a") + prim("b") + "</group></clone>"


def test_a_cloned_group_starts_a_whole_instance_per_node_in_member_order():
    result = run(cib(GROUP_CLONE, both_online()))
    assert folded(result) == ["* Start a:0 ( node1 )", "* Start b:0 ( node1 )",
                              "* Start a:1 ( node2 )", "* Start b:1 ( node2 )"]
    acts = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    assert acts[("a", "start", "node1")].id in acts[("b", "start", "node1")].inputs


def test_a_standby_node_stops_its_group_instance():
    # A running instance that stays: the case clone-group-instance-stays.
    standby = node_state("node1", lrm=up("a", "b"), attrs={"standby": "on"}) + node_state("node2", lrm=up("a", "b"))
    result = run(cib(GROUP_CLONE, standby))
    assert folded(result) == ["* Stop a:0 ( node1 ) due to node availability",
                              "* Stop b:0 ( node1 ) due to node availability"]
    status = [" ".join(line.split()) for line in render_status(result.state)]
    assert "* Clone Set: cl [g]:" in status and "* Started: [ node1 node2 ]" in status


# ---------------------------------------------------------------- orderings with clones

A_CLONE = '<clone id="A">' + prim("a") + "</clone>"
B_INTERLEAVED = '<clone id="B"><meta_attributes id="bm"><nvpair id="bm1" name="interleave" value="true"/>' \
    '</meta_attributes>' + prim("b") + "</clone>"
A_THEN_B = '<rsc_order id="o" first="A" then="B"/>'


def test_an_interleaved_clone_waits_for_its_own_nodes_partner():
    # Without interleave, b:0 restarts: the case clone-after-clone.
    status = node_state("node1", lrm=up("a", "b")) + node_state("node2")
    result = run(cib(A_CLONE + B_INTERLEAVED, status, A_THEN_B))
    assert folded(result) == ["* Start a:1 ( node2 )", "* Start b:1 ( node2 )"]
    acts = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    assert acts[("a", "start", "node2")].id in acts[("b", "start", "node2")].inputs   # its own node's partner
