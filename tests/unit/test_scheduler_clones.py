"""Anonymous clones of a primitive: one instance per node, kept where they run, shown as a clone set."""

from __future__ import annotations

from paceline.shared.cluster import render_status
from paceline.shared.lrm import pacemaker_digest

from tests.unit.test_scheduler_core import both_online, cib, folded, lrm_rsc, node_state, op, prim, run

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


def test_clone_max_location_and_target_role_on_the_clone():
    meta = '<meta_attributes id="dc-meta"><nvpair id="dc-max" name="clone-max" value="1"/></meta_attributes>'
    one = '<clone id="d-clone">' + meta + prim("d") + "</clone>"
    ban = '<rsc_location id="ban" rsc="d-clone" node="node1" score="-INFINITY"/>'
    assert folded(run(cib(one, both_online(), ban))) == ["* Start d:0 ( node2 )"]
    stopped = '<clone id="d-clone">' + meta.replace("clone-max", "target-role").replace('"1"', '"Stopped"') + \
        prim("d") + "</clone>"
    assert folded(run(cib(stopped, node_state("node1") + node_state("node2")))) == []


def test_unsupported_clone_shapes_are_warnings_not_guesses():
    promotable_group = '<clone id="g-clone"><meta_attributes id="gm"><nvpair id="gm1" name="promotable" ' \
        'value="true"/></meta_attributes><group id="g">' + prim("q") + "</group></clone>"
    result = run(cib(promotable_group, both_online()))
    assert folded(result) == [] and any("promotable clones of a group" in w for w in result.state.warnings)


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


def test_a_primitive_ordered_after_a_clone_that_cannot_run_is_blocked():
    cons = ('<rsc_order id="o" first="d-clone" then="web"/>'
            '<rsc_location id="no-d" rsc="d-clone" node="node1" score="-INFINITY"/>'
            '<rsc_location id="no-d2" rsc="d-clone" node="node2" score="-INFINITY"/>')
    result = run(cib(CLONE + prim("web"), both_online(), cons))
    assert folded(result) == ["* Start web ( node1 ) due to unrunnable d-clone running (blocked)"]


def test_a_displaced_instance_stops_and_a_free_one_starts_or_it_moves_to_a_spare_node():
    meta = '<meta_attributes id="dc-meta"><nvpair id="dc-max" name="clone-max" value="2"/></meta_attributes>'
    two = '<clone id="d-clone">' + meta + prim("d") + "</clone>"
    dig = pacemaker_digest({})
    failed = lrm_rsc("d", op("d", "start", digest=dig),
                     op("d", "monitor", rc=1, call=2, interval=10000, expected=0, digest=dig))
    threshold = '<rsc_defaults><meta_attributes id="rd"><nvpair id="rd-mt" name="migration-threshold" value="1"/>' \
        '</meta_attributes></rsc_defaults>'
    node1 = node_state("node1", lrm=failed, attrs={"fail-count-d#monitor_10000": "1"})
    assert folded(run(cib(two, node1 + node_state("node2"), extra_config=threshold))) == [
        "* Stop d:0 ( node1 ) due to node availability", "* Start d:1 ( node2 )"]
    three = node1 + node_state("node2", lrm=lrm_rsc("d", op("d", "start", digest=dig))) + node_state("node3")
    assert folded(run(cib(two, three, nodes=("node1", "node2", "node3"), extra_config=threshold))) == [
        "* Recover d:0 ( node1 -> node3 )"]


# ---------------------------------------------------------------- clones of a group

GROUP_CLONE = '<clone id="cl"><group id="g">' + prim("a") + prim("b") + "</group></clone>"


def up(*rids: str) -> str:
    """Running members, recorded with Pacemaker's digest of their (empty) definition."""
    return "".join(lrm_rsc(r, op(r, "start", digest=pacemaker_digest({}))) for r in rids)


def test_a_cloned_group_starts_a_whole_instance_per_node_in_member_order():
    result = run(cib(GROUP_CLONE, both_online()))
    assert folded(result) == ["* Start a:0 ( node1 )", "* Start b:0 ( node1 )",
                              "* Start a:1 ( node2 )", "* Start b:1 ( node2 )"]
    acts = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    assert acts[("a", "start", "node1")].id in acts[("b", "start", "node1")].inputs


def test_a_running_group_instance_stays_and_a_standby_node_stops_its_instance():
    assert folded(run(cib(GROUP_CLONE, both_online(up("a", "b"))))) == [
        "* Start a:1 ( node2 )", "* Start b:1 ( node2 )"]
    standby = node_state("node1", lrm=up("a", "b"), attrs={"standby": "on"}) + node_state("node2", lrm=up("a", "b"))
    result = run(cib(GROUP_CLONE, standby))
    assert folded(result) == ["* Stop a:0 ( node1 ) due to node availability",
                              "* Stop b:0 ( node1 ) due to node availability"]
    status = [" ".join(line.split()) for line in render_status(result.state)]
    assert "* Clone Set: cl [g]:" in status and "* Started: [ node1 node2 ]" in status


def test_a_member_that_cannot_run_on_a_node_stops_the_rest_of_its_instance_there():
    history = lrm_rsc("a", op("a", "start", digest=pacemaker_digest({}))) + \
        lrm_rsc("b", op("b", "start", digest=pacemaker_digest({})), op("b", "monitor", rc=1, call=2, interval=10000,
                                                                      expected=0, digest=pacemaker_digest({})))
    defaults = '<rsc_defaults><meta_attributes id="rd"><nvpair id="rd-mt" name="migration-threshold" value="1"/>' \
        '</meta_attributes></rsc_defaults>'
    status = node_state("node1", lrm=history, attrs={"fail-count-b#monitor_10000": "1"}) + node_state("node2")
    result = run(cib(GROUP_CLONE, status, extra_config=defaults))
    # Instances are interchangeable: the displaced one stops, a fresh one starts (Pacemaker moves none).
    assert folded(result) == ["* Stop a:0 ( node1 ) due to node availability",
                              "* Stop b:0 ( node1 ) due to node availability",
                              "* Start a:1 ( node2 )", "* Start b:1 ( node2 )"]


def test_a_primitive_colocated_with_a_cloned_group_and_ordered_after_it():
    cons = ('<rsc_colocation id="c" rsc="web" with-rsc="cl" score="INFINITY"/><rsc_order id="o" first="cl" then="web"/>'
            '<rsc_location id="l" rsc="cl" node="node2" score="-INFINITY"/>')
    result = run(cib(GROUP_CLONE + prim("web"), both_online(up("a", "b")), cons))
    assert folded(result) == ["* Start web ( node1 )"]


# ---------------------------------------------------------------- orderings with clones (all checked with crm_simulate)

A_CLONE = '<clone id="A">' + prim("a") + "</clone>"
B_CLONE = '<clone id="B">' + prim("b") + "</clone>"
B_INTERLEAVED = '<clone id="B"><meta_attributes id="bm"><nvpair id="bm1" name="interleave" value="true"/>' \
    '</meta_attributes>' + prim("b") + "</clone>"
A_THEN_B = '<rsc_order id="o" first="A" then="B"/>'


def test_a_new_instance_elsewhere_restarts_nothing_ordered_after_the_clone():
    node1 = node_state("node1", lrm=up("a", "web", "w1", "w2"))
    group = '<group id="G">' + prim("w1") + prim("w2") + "</group>"
    orders = '<rsc_order id="o1" first="A" then="web"/><rsc_order id="o2" first="A" then="G"/>' \
        '<rsc_location id="l1" rsc="web" node="node1" score="10"/>' \
        '<rsc_location id="l2" rsc="G" node="node1" score="10"/>'
    assert folded(run(cib(A_CLONE + prim("web") + group, node1 + node_state("node2"), orders))) == [
        "* Start a:1 ( node2 )"]


def test_a_clone_after_a_moving_primitive_restarts_everywhere():
    status = node_state("node1", lrm=up("a", "p")) + node_state("node2", lrm=up("a"))
    cons = '<rsc_order id="o" first="p" then="A"/><rsc_location id="l" rsc="p" node="node2" score="100"/>'
    assert folded(run(cib(prim("p") + A_CLONE, status, cons))) == [
        "* Move p ( node1 -> node2 )", "* Restart a:0 ( node1 ) due to required p start",
        "* Restart a:1 ( node2 ) due to required p start"]


def test_clone_after_clone_restarts_unless_interleaved():
    status = node_state("node1", lrm=up("a", "b")) + node_state("node2")
    assert folded(run(cib(A_CLONE + B_CLONE, status, A_THEN_B))) == [
        "* Start a:1 ( node2 )", "* Restart b:0 ( node1 ) due to required A running", "* Start b:1 ( node2 )"]
    result = run(cib(A_CLONE + B_INTERLEAVED, status, A_THEN_B))
    assert folded(result) == ["* Start a:1 ( node2 )", "* Start b:1 ( node2 )"]
    acts = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    assert acts[("a", "start", "node2")].id in acts[("b", "start", "node2")].inputs   # its own node's partner


def test_an_interleaved_instance_without_a_partner_on_its_node_is_not_placed_there():
    ban = '<rsc_location id="l" rsc="A" node="node2" score="-INFINITY"/>'
    assert folded(run(cib(A_CLONE + B_INTERLEAVED, both_online(), A_THEN_B + ban))) == [
        "* Start a:0 ( node1 )", "* Start b:1 ( node1 )"]
    standby = node_state("node1", lrm=up("a", "b")) + node_state("node2", lrm=up("a", "b"), attrs={"standby": "on"})
    assert folded(run(cib(A_CLONE + B_INTERLEAVED, standby, A_THEN_B))) == [
        "* Stop a:1 ( node2 ) due to node availability", "* Stop b:1 ( node2 ) due to node availability"]


def test_a_clone_colocated_with_a_clone_runs_only_beside_it():
    cons = '<rsc_colocation id="c" rsc="B" with-rsc="A" score="INFINITY"/>' \
        '<rsc_location id="l" rsc="A" node="node2" score="-INFINITY"/>'
    assert folded(run(cib(A_CLONE + B_CLONE, both_online(), cons))) == ["* Start a:0 ( node1 )",
                                                                        "* Start b:0 ( node1 )"]
