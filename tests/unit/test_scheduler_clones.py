"""Anonymous clones of a primitive: one instance per node, kept where they run, shown as a clone set."""

from __future__ import annotations

from paceline.policy.scheduler import render_status

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
    history = lrm_rsc("d", op("d", "start"))          # Pacemaker records an anonymous clone by its base id
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
    of_group = '<clone id="g-clone"><group id="g">' + prim("q") + "</group></clone>"
    result = run(cib(of_group, both_online()))
    assert folded(result) == [] and any("only clones of a primitive" in w for w in result.state.warnings)


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
