"""Launched resources (``container`` meta attribute): placement, ordering and failure handling.

The summaries are also scheduler cases (tests/scheduler_cases/xml/launcher-*.xml) where crm_simulate prints
the same, with the launcher CIBs whose summary and scores are all there is to check.
"""

from __future__ import annotations

from paceline.shared.lrm import params_digest

from tests.support.cibs import both_online, cib, folded, lrm_rsc, op, prim, run, running

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


def test_failed_stop_of_launched_resource_counts_as_stopped():
    # Not a case: crm_simulate 2.1.5 (with Pacemaker's digests in the history) plans nothing for this CIB; it
    # restarts the launcher when a launched monitor fails (the case launcher-failed-restarts-launcher).
    history = lrm_rsc("app1", op("app1", "start", call=1, digest=params_digest({})),
                      op("app1", "stop", rc=1, call=4, expected=0))
    status = both_online(running("box") + history + running("app2"))
    assert folded(run(cib(resources(), status))) == [
        "* Restart box ( node1 )", "* Start app1 ( node1 )",
        "* Restart app2 ( node1 ) due to required box start"]


def test_a_group_container_attribute_does_not_make_the_launcher_launch_itself():
    group = ('<group id="g"><meta_attributes id="g-meta"><nvpair id="g-c" name="container" value="box"/>'
             '</meta_attributes>' + prim("box") + prim("app1") + "</group>")
    result = run(cib(group, both_online()))
    assert folded(result) == ["* Start box ( node1 )", "* Start app1 ( node1 )"]
    state = result.state
    assert state.by_id["box"].launcher is None and state.by_id["app1"].launcher is state.by_id["box"]
