"""Launched resources (``container`` meta attribute): placement, ordering and failure handling."""

from __future__ import annotations

from paceline.shared.lrm import params_digest

from tests.unit.test_scheduler_core import both_online, cib, folded, lrm_rsc, node_state, op, prim, run, running

LAUNCHED = {"container": "box"}


def resources(box_meta: dict[str, str] | None = None) -> str:
    return (prim("box", meta=box_meta, monitor="20s") + prim("app1", meta=LAUNCHED, monitor="10s")
            + prim("app2", meta=LAUNCHED, monitor="5s"))


def failed_monitor(rsc: str, call: int = 3) -> str:
    return lrm_rsc(rsc, op(rsc, "start", call=1, digest=params_digest({})),
                   op(rsc, "monitor", rc=1, call=call, interval=10000, expected=0))


def test_launched_resources_start_with_their_launcher_and_are_not_probed():
    result = run(cib(resources(), both_online()))
    assert folded(result) == ["* Start box ( node1 )", "* Start app1 ( node1 )", "* Start app2 ( node1 )"]
    probed = {a.rsc for a in result.graph.actions if a.task == "monitor" and a.interval_ms == 0}
    assert probed == {"box"}
    by_key = {(a.rsc, a.task): a for a in result.graph.actions if a.interval_ms == 0}
    assert by_key[("box", "start")].id in by_key[("app1", "start")].inputs
    assert "pcmk__primitive_assign: app1 allocation score on node2: -INFINITY" in result.scores


def test_failed_launched_resource_restarts_its_launcher():
    status = both_online(running("box") + failed_monitor("app1") + running("app2"))
    assert folded(run(cib(resources(), status))) == [
        "* Restart box ( node1 )", "* Recover app1 ( node1 )",
        "* Restart app2 ( node1 ) due to required box start"]


def test_failed_stop_of_launched_resource_counts_as_stopped():
    history = lrm_rsc("app1", op("app1", "start", call=1, digest=params_digest({})),
                      op("app1", "stop", rc=1, call=4, expected=0))
    status = both_online(running("box") + history + running("app2"))
    assert folded(run(cib(resources(), status))) == [
        "* Restart box ( node1 )", "* Start app1 ( node1 )",
        "* Restart app2 ( node1 ) due to required box start"]


def test_launched_failures_count_against_the_launcher_threshold():
    status = node_state("node1", lrm=running("box") + failed_monitor("app1") + running("app2"),
                        attrs={"fail-count-app1#monitor_10000": "2", "fail-count-box#monitor_20000": "1"})
    status += node_state("node2")
    result = run(cib(resources({"migration-threshold": "3"}), status))
    assert folded(result) == ["* Move box ( node1 -> node2 )", "* Recover app1 ( node1 -> node2 )",
                              "* Move app2 ( node1 -> node2 )"]
    assert "pcmk__primitive_assign: box allocation score on node1: -INFINITY" in result.scores
    # Below the threshold the launcher stays and is restarted in place.
    result = run(cib(resources({"migration-threshold": "4"}), status))
    assert folded(result)[0] == "* Restart box ( node1 )"


def test_a_group_container_attribute_does_not_make_the_launcher_launch_itself():
    group = ('<group id="g"><meta_attributes id="g-meta"><nvpair id="g-c" name="container" value="box"/>'
             '</meta_attributes>' + prim("box") + prim("app1") + "</group>")
    result = run(cib(group, both_online()))
    assert folded(result) == ["* Start box ( node1 )", "* Start app1 ( node1 )"]
    state = result.state
    assert state.by_id["box"].launcher is None and state.by_id["app1"].launcher is state.by_id["box"]
