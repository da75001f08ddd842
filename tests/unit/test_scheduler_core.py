"""Scheduler behaviour on small hand-written CIBs: the decisions a live cluster depends on."""

from __future__ import annotations

import pytest
from paceline.policy.scheduler import schedule
from paceline.policy.simulate import execution_order
from paceline.shared.cib import parse_cib
from paceline.shared.cluster import render_status, unpack
from paceline.shared.cluster.scores import INF, add_scores, format_score, parse_score
from paceline.shared.lrm import OpResult, apply_status_ops, params_digest, result_ops

from tests.support.cibs import NOW, both_online, cib, folded, lrm_rsc, node_state, op, prim, run, running, up

# ------------------------------------------------------------------ scores

def test_score_parsing_and_infinity_arithmetic():
    assert parse_score("INFINITY") == INF
    assert parse_score("-INFINITY") == -INF
    assert parse_score("1.0") == 1
    assert parse_score("inf", default=0) == 0
    assert parse_score("99999999") == INF
    assert add_scores(INF, -500) == INF
    assert add_scores(INF, -INF) == -INF
    assert add_scores(-INF, INF) == -INF
    assert add_scores(300, -200) == 100
    assert format_score(-INF) == "-INFINITY"


# ------------------------------------------------------------------ placement
# Each CIB's Transition Summary is also a scheduler case (tests/scheduler_cases/xml/core-*.xml) where
# crm_simulate prints the same; the tests here check what a summary does not show, and the CIBs on which
# crm_simulate 2.1.5 decides otherwise (each says how).

def test_fresh_resource_is_probed_started_and_monitored():
    result = run(cib(prim("r1", monitor="10s"), both_online()))
    assert folded(result) == ["* Start r1 ( node1 )"]
    tasks = {(a.task, a.node, a.interval_ms) for a in result.graph.actions}
    assert ("monitor", "node1", 0) in tasks and ("monitor", "node2", 0) in tasks
    start = next(a for a in result.graph.actions if a.task == "start")
    monitor = next(a for a in result.graph.actions if a.interval_ms == 10000)
    probes = [a for a in result.graph.actions if a.task == "monitor" and a.interval_ms == 0]
    assert all(p.expected_rc == 7 for p in probes)
    assert {p.id for p in probes} <= set(start.inputs)
    assert start.id in monitor.inputs
    assert monitor.timeout_ms == 30000 and start.timeout_ms == 20000
    assert start.digest == params_digest(start.params)


def test_group_members_are_colocated_and_ordered():
    group = '<group id="g">' + prim("a") + prim("b") + prim("c") + "</group>"
    cons = '<rsc_location id="l" rsc="g" node="node2" score="10"/>'
    result = run(cib(group, both_online(), cons))
    assert folded(result) == ["* Start a ( node2 )", "* Start b ( node2 )", "* Start c ( node2 )"]
    by_key = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    a_start, b_start, c_start = (by_key[(r, "start", "node2")] for r in "abc")
    assert a_start.id in b_start.inputs and b_start.id in c_start.inputs


def test_member_inserted_before_an_unmanaged_running_member_cannot_start():
    # Not a case: crm_simulate 2.1.5 prints a plain "Start new ( node1 )" here (with Pacemaker's digests).
    group = '<group id="g">' + prim("a") + prim("new") + prim("c", {"is-managed": "false"}) + "</group>"
    status = both_online(running("a") + running("c"))
    result = run(cib(group, status))
    assert folded(result) == ["* Start new ( node1 ) due to unrunnable c stop (blocked)"]
    # With c managed: the case core-group-member-before-managed.


def test_group_stops_in_reverse_order():
    group = '<group id="g">' + prim("a") + prim("b") + "</group>"
    status = both_online(running("a") + running("b"))
    result = run(cib(group, status, nodes=("node1", "node2"),
                     constraints='<rsc_location id="l" rsc="g" node="node1" score="-INFINITY"/>'))
    assert folded(result) == ["* Move a ( node1 -> node2 )", "* Move b ( node1 -> node2 )"]
    by_key = {(a.rsc, a.task): a for a in result.graph.actions if a.node == "node1"}
    assert by_key[("b", "stop")].id in by_key[("a", "stop")].inputs


def test_banned_group_takes_along_what_a_later_member_is_colocated_with():
    # b (second member) must run with r; the group is banned from node1 where all three run.
    # Not a case: crm_simulate 2.1.5 (with Pacemaker's digests) leaves r on node1 and stops b: "Move a",
    # "Stop b ( node1 ) due to node availability".
    group = '<group id="g">' + prim("a") + prim("b") + "</group>"
    cons = ('<rsc_colocation id="c" rsc="b" with-rsc="r" score="INFINITY"/>'
            '<rsc_location id="ban" rsc="g" node="node1" score="-INFINITY"/>')
    status = both_online(running("r") + running("a") + running("b"))
    result = run(cib(prim("r") + group, status, cons, nodes=("node1", "node2", "node3")))
    assert folded(result) == ["* Move r ( node1 -> node2 )", "* Move a ( node1 -> node2 )",
                              "* Move b ( node1 -> node2 )"]


def test_node_without_node_state_is_offline():
    result = run(cib(prim("r1"), node_state("node2")))
    assert folded(result) == ["* Start r1 ( node2 )"]
    assert "    * OFFLINE: [ node1 ]" in render_status(result.state)


def test_lost_node_with_fencing_is_fenced_and_resource_moves():
    # Not a case: crm_simulate 2.1.5 (with Pacemaker's digests) also restarts the fencing device on node2:
    # "Restart fence ( node2 )".
    fence = '<primitive id="fence" class="stonith" type="fence_dummy"/>'
    status = (node_state("node1", online=False, lrm=running("r1"))
              .replace('in_ccm="false" crmd="offline" join="down" expected="down"',
                       'in_ccm="false" crmd="offline" join="down" expected="member"')
              + node_state("node2", lrm=running("fence")))
    result = run(cib(fence + prim("r1"), status, options={"stonith-enabled": "true"}))
    assert folded(result) == ["* Fence (reboot) node1 'peer is no longer part of the cluster'",
                              "* Move r1 ( node1 -> node2 )"]


def test_failed_monitor_recovers_in_place():
    history = lrm_rsc("r1", op("r1", "start", call=1), op("r1", "monitor", rc=7, call=2, interval=10000,
                                                         expected=0))
    result = run(cib(prim("r1", monitor="10s"), both_online(history)))
    assert folded(result) == ["* Recover r1 ( node1 )"]
    tasks = [(a.task, a.node) for a in result.graph.actions if a.rsc == "r1" and a.interval_ms == 0]
    assert ("stop", "node1") in tasks and ("start", "node1") in tasks


def test_unchanged_parameters_under_our_own_digest_restart_nothing():
    # Not a case: the history carries Paceline's digest of ip=10.0.0.2, which crm_simulate reads as a changed
    # definition. A changed parameter restarts: the case core-changed-parameters.
    params = '<instance_attributes id="r1-ia"><nvpair id="r1-ip" name="ip" value="10.0.0.2"/></instance_attributes>'
    same = lrm_rsc("r1", op("r1", "start", call=1, digest=params_digest({"ip": "10.0.0.2"})))
    assert folded(run(cib(prim("r1", params=params), both_online(same)))) == []


def _reloadable_start(rsc: str, old_params: dict[str, str], status: int, call: int) -> str:
    """A start recorded with a restart digest over no parameter: a change to the others is reloadable."""
    return lrm_rsc(rsc, f'<lrm_rsc_op id="{rsc}_last_0" operation="start" interval="0" rc-code="0" '
                        f'op-status="{status}" call-id="{call}" transition-key="1:1:0:test" '
                        f'op-digest="{params_digest(old_params)}" op-force-restart=" dummy " '
                        f'op-restart-digest="{params_digest({})}"/>')


def test_a_pending_start_with_a_reloadable_change_is_stopped_and_started_again():
    # A completed start reloads instead: the case core-reload.
    params = '<instance_attributes id="r1-ia"><nvpair id="r1-ip" name="ip" value="10.0.0.2"/></instance_attributes>'
    pending = _reloadable_start("r1", {"ip": "10.0.0.1"}, status=-1, call=-1)
    result = run(cib(prim("r1", params=params), both_online(pending)))
    assert folded(result) == ["* Restart r1 ( node1 )"]
    assert any(line.strip().endswith("Starting node1") for line in render_status(result.state))


def test_probe_finding_resource_active_is_respected():
    # Not a case: the probe's record has no digest, and crm_simulate 2.1.5 restarts r1 for a definition change.
    history = lrm_rsc("r1", op("r1", "monitor", rc=0, call=1, expected=7))
    result = run(cib(prim("r1", {"resource-stickiness": "1"}), both_online("", history)))
    assert folded(result) == []
    assert result.state.by_id["r1"].status.active_on == ["node2"]


# ------------------------------------------------------------------ history and status

def test_unpack_reads_roles_failures_and_node_states():
    history = lrm_rsc("r1", op("r1", "start", rc=1, call=3, expected=0))
    status = node_state("node1", lrm=history) + node_state("node2", online=False)
    state = unpack(parse_cib(cib(prim("r1") + '<group id="g">' + prim("a") + "</group>", status,
                                 node_attrs={"node1": {"standby": "on"}})), now=NOW)
    assert state.nodes["node1"].online and state.nodes["node1"].standby
    assert not state.nodes["node2"].online
    r1 = state.by_id["r1"]
    assert r1.status.active_on == ["node1"] and r1.status.failed
    assert state.by_id["a"].parent is state.by_id["g"]
    assert [(f.rsc, f.task, f.rc) for f in state.failed_ops] == [("r1", "start", 1)]
    lines = render_status(state)
    assert "    * Node node1: standby (with active resources)" in lines
    assert "    * r1\t(ocf:heartbeat:Dummy):\t FAILED node1" in lines
    assert "    * Resource Group: g:" in lines
    assert "      * a\t(ocf:heartbeat:Dummy):\t Stopped" in lines
    assert "  * Failed Resource Actions:" in lines


def test_executor_records_are_read_back():
    root = parse_cib(cib(prim("r1"), both_online()))
    first = schedule(root, now=NOW)
    start = next(a for a in first.graph.actions if a.task == "start")
    ns = root.find("status/node_state[@uname='node1']")
    assert ns is not None
    calls = iter(range(1, 1000))  # call-ids grow in the order an executor runs the actions
    for action in execution_order(first.graph):
        if action.node != "node1" or action.pseudo:
            continue
        res = OpResult(rsc=action.rsc or "", task=action.task, interval_ms=action.interval_ms, rc=action.expected_rc,
                       call_id=next(calls), digest=action.digest, transition_key=f"{action.id}:1:"
                       f"{action.expected_rc}:t", node="node1", last_rc_change=int(NOW),
                       expected_rc=action.expected_rc)
        apply_status_ops(ns, result_ops(res, action.agent))
    assert start.node == "node1"
    second = schedule(root, now=NOW)
    assert second.state.by_id["r1"].status.active_on == ["node1"]
    assert folded(second) == []


@pytest.mark.parametrize("bad", ["<cib>", "<notcib/>"])
def test_bad_cib_is_a_clear_error(bad):
    from paceline.shared.cib import CibError
    with pytest.raises(CibError):
        parse_cib(bad)


def test_a_failure_under_the_current_parameters_bans_the_node():
    # Not a case: the records carry Paceline's digest of ip=10.0.0.2, which crm_simulate reads as a changed
    # definition (so it forgets the failure).
    def failed_start(ip: str) -> str:
        digest = params_digest({"ip": ip})
        return lrm_rsc("r1", f'<lrm_rsc_op id="r1_last_failure_0" operation="start" interval="0" rc-code="1" '
                             f'op-status="4" call-id="2" transition-key="1:1:0:test" op-digest="{digest}"/>',
                       f'<lrm_rsc_op id="r1_last_0" operation="stop" interval="0" rc-code="0" op-status="0" '
                       f'call-id="3" transition-key="1:1:0:test" op-digest="{digest}"/>')
    params = '<instance_attributes id="r1-ia"><nvpair id="r1-ip" name="ip" value="10.0.0.2"/></instance_attributes>'
    constraints = '<rsc_location id="pref" rsc="r1" node="node1" score="100"/>'
    banned = {"fail-count-r1#start_0": "INFINITY"}
    same = both_online(failed_start("10.0.0.2"), attrs=banned)
    assert folded(run(cib(prim("r1", params=params), same, constraints))) == ["* Start r1 ( node2 )"]
    # Under the old parameters 10.0.0.1 the failure is forgotten: the case core-failure-old-parameters-forgotten.


def test_primitives_take_agent_params_and_ops_from_their_template():
    template = ('<template id="tpl" class="ocf" provider="heartbeat" type="Dummy">'
                '<instance_attributes id="tpl-ia"><nvpair id="tpl-a" name="a" value="from-template"/>'
                '<nvpair id="tpl-b" name="b" value="from-template"/></instance_attributes>'
                '<operations><op id="tpl-mon" name="monitor" interval="10s" timeout="20s"/>'
                '<op id="tpl-mon5" name="monitor" interval="5s" timeout="20s"/></operations></template>')
    own = ('<primitive id="t1" template="tpl"><instance_attributes id="t1-ia">'
           '<nvpair id="t1-a" name="a" value="own"/></instance_attributes>'
           '<operations><op id="t1-mon" name="monitor" interval="10s" timeout="40s"/></operations></primitive>')
    result = run(cib(template + own, both_online()))
    assert folded(result) == ["* Start t1 ( node1 )"]
    start = next(a for a in result.graph.actions if a.rsc == "t1" and a.task == "start")
    assert start.agent == {"class": "ocf", "provider": "heartbeat", "type": "Dummy"}
    assert start.params == {"a": "own", "b": "from-template"}
    monitors = {a.interval_ms: a.timeout_ms for a in result.graph.actions if a.rsc == "t1" and a.interval_ms}
    assert monitors == {10000: 40000, 5000: 20000}
    missing = run(cib('<primitive id="t2" template="nope"/>', both_online()))
    assert folded(missing) == [] and any("template='nope'" in e for e in missing.state.config_errors)


def test_under_a_placement_strategy_a_clone_primary_folds_its_table_into_the_sort():
    """cmp_resources weighs each resource's table with its primaries' folded in (add_colocated_node_scores
    of the primary, a clone by its own table): vm, colocated with a clone that cannot run on vm's standby
    node, scores -INFINITY where it runs and is assigned - and summarized - after d (crm_simulate 2.1.5
    prints the same order)."""
    clone = '<clone id="c-clone">' + prim("c") + "</clone>"
    status = node_state("node1", lrm=up("c", "vm", "d"), attrs={"standby": "on"}) + node_state("node2", lrm=up("c"))
    stickiness = ('<rsc_defaults><meta_attributes id="rd"><nvpair id="rd1" name="resource-stickiness" value="1"/>'
                  '</meta_attributes></rsc_defaults>')
    result = run(cib(clone + prim("vm") + prim("d"), status,
                     '<rsc_colocation id="co" rsc="vm" with-rsc="c-clone" score="INFINITY"/>',
                     options={"placement-strategy": "balanced"}, extra_config=stickiness))
    assert folded(result) == ["* Move d ( node1 -> node2 )", "* Stop c:0 ( node1 ) due to node availability",
                              "* Move vm ( node1 -> node2 )"]


def test_colocations_with_clones_list_a_promotable_primary_first():
    """cmp_colocation_priority: between two clone primaries of equal priority, the promotable one comes before
    the other whatever their ids, so its colocation is applied first."""
    plain = '<clone id="a-clone">' + prim("a") + "</clone>"
    promotable = ('<clone id="z-ms"><meta_attributes id="z-m"><nvpair id="z-p" name="promotable" value="true"/>'
                  "</meta_attributes>" + prim("z") + "</clone>")
    state = unpack(parse_cib(cib(plain + promotable + prim("dep"), both_online(),
                                 '<rsc_colocation id="c1" rsc="dep" with-rsc="a-clone" score="INFINITY"/>'
                                 '<rsc_colocation id="c2" rsc="dep" with-rsc="z-ms" with-rsc-role="Promoted" '
                                 'score="INFINITY"/>')), now=NOW)
    assert [c.id for c in state.by_id["dep"].this_with] == ["c2", "c1"]
