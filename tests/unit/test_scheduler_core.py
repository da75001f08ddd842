"""Scheduler behaviour on small hand-written CIBs: the decisions a live cluster depends on."""

from __future__ import annotations

import pytest
from paceline.policy.scheduler import schedule
from paceline.policy.simulate import execution_order
from paceline.shared.cib import parse_cib
from paceline.shared.cluster import render_status, unpack
from paceline.shared.cluster.scores import INF, add_scores, format_score, parse_score
from paceline.shared.lrm import OpResult, apply_status_ops, params_digest, result_ops

NOW = 1_700_000_000.0


def node_state(name: str, online: bool = True, lrm: str = "", attrs: dict[str, str] | None = None) -> str:
    flags = ('in_ccm="true" crmd="online" join="member" expected="member"' if online
             else 'in_ccm="false" crmd="offline" join="down" expected="down"')
    transient = ""
    if attrs:
        pairs = "".join(f'<nvpair id="{name}-{k}" name="{k}" value="{v}"/>' for k, v in attrs.items())
        transient = (f'<transient_attributes id="{name}"><instance_attributes id="status-{name}">'
                     f'{pairs}</instance_attributes></transient_attributes>')
    return (f'<node_state id="{name}" uname="{name}" {flags}>{transient}'
            f'<lrm id="{name}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>')


def op(rsc: str, task: str, rc: int = 0, call: int = 1, interval: int = 0, expected: int | None = None,
       digest: str | None = None, status: int = 0) -> str:
    expected = rc if expected is None else expected
    record = f"{rsc}_last_0" if interval == 0 else f"{rsc}_{task}_{interval}"
    dig = f' op-digest="{digest}"' if digest else ""
    return (f'<lrm_rsc_op id="{record}" operation="{task}" interval="{interval}" rc-code="{rc}" '
            f'op-status="{status}" call-id="{call}" transition-key="1:1:{expected}:test" '
            f'last-rc-change="{int(NOW) - 100}"{dig}/>')


def lrm_rsc(rsc: str, *ops: str) -> str:
    return f'<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy">{"".join(ops)}</lrm_resource>'


def running(rsc: str, call: int = 1) -> str:
    return lrm_rsc(rsc, op(rsc, "start", call=call, digest=params_digest({})))


def prim(rid: str, meta: dict[str, str] | None = None, monitor: str | None = None, params: str = "") -> str:
    meta_xml = ""
    if meta:
        meta_xml = f'<meta_attributes id="{rid}-meta">' + "".join(
            f'<nvpair id="{rid}-{k}" name="{k}" value="{v}"/>' for k, v in meta.items()) + "</meta_attributes>"
    ops = ""
    if monitor:
        ops = f'<operations><op id="{rid}-mon" name="monitor" interval="{monitor}" timeout="30s"/></operations>'
    return f'<primitive id="{rid}" class="ocf" provider="heartbeat" type="Dummy">{params}{meta_xml}{ops}</primitive>'


def cib(resources: str, status: str, constraints: str = "", nodes: tuple[str, ...] = ("node1", "node2"),
        options: dict[str, str] | None = None, quorum: bool = True, extra_config: str = "",
        node_attrs: dict[str, dict[str, str]] | None = None) -> str:
    opts = {"stonith-enabled": "false", **(options or {})}
    pairs = "".join(f'<nvpair id="o-{k}" name="{k}" value="{v}"/>' for k, v in opts.items())
    node_xml = ""
    for n in nodes:
        attrs = (node_attrs or {}).get(n)
        inner = ""
        if attrs:
            inner = f'<instance_attributes id="{n}-ia">' + "".join(
                f'<nvpair id="{n}-{k}" name="{k}" value="{v}"/>' for k, v in attrs.items()) + "</instance_attributes>"
        node_xml += f'<node id="{n}" uname="{n}">{inner}</node>'
    return (f'<cib have-quorum="{1 if quorum else 0}" epoch="1" num_updates="0" admin_epoch="0">'
            f'<configuration><crm_config><cluster_property_set id="cib-bootstrap-options">{pairs}'
            f'</cluster_property_set></crm_config><nodes>{node_xml}</nodes><resources>{resources}</resources>'
            f'<constraints>{constraints}</constraints>{extra_config}</configuration>'
            f'<status>{status}</status></cib>')


def run(xml: str):
    return schedule(parse_cib(xml), now=NOW)


def folded(result) -> list[str]:
    return [" ".join(line.split()) for line in result.summary]


def both_online(lrm1: str = "", lrm2: str = "", **kw) -> str:
    return node_state("node1", lrm=lrm1, **kw) + node_state("node2", lrm=lrm2)


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


def test_balancing_puts_second_resource_on_other_node():
    result = run(cib(prim("r1") + prim("r2"), both_online()))
    assert folded(result) == ["* Start r1 ( node1 )", "* Start r2 ( node2 )"]


def test_location_score_and_rule_with_node_attribute():
    cons = ('<rsc_location id="l1" rsc="r1" node="node2" score="50"/>'
            '<rsc_location id="l2" rsc="r2"><rule id="l2r" score="INFINITY">'
            '<expression id="l2e" attribute="site" operation="eq" value="b"/></rule></rsc_location>'
            '<rsc_location id="l3" rsc="r3"><rule id="l3r" score="-INFINITY">'
            '<expression id="l3e" attribute="#uname" operation="eq" value="node1"/></rule></rsc_location>')
    result = run(cib(prim("r1") + prim("r2") + prim("r3"), both_online(), cons,
                     node_attrs={"node2": {"site": "b"}}))
    assert folded(result) == ["* Start r1 ( node2 )", "* Start r2 ( node2 )", "* Start r3 ( node2 )"]
    assert "pcmk__primitive_assign: r3 allocation score on node1: -INFINITY" in result.scores


def test_stickiness_keeps_resource_and_zero_stickiness_rebalances():
    status = both_online(running("r1") + running("r2"))
    # Equal scores: the first resource stays on its current node, the second balances to node2.
    assert folded(run(cib(prim("r1") + prim("r2"), status))) == ["* Move r2 ( node1 -> node2 )"]
    sticky = '<rsc_defaults><meta_attributes id="rd"><nvpair id="rd-s" name="resource-stickiness" value="100"/>' \
             '</meta_attributes></rsc_defaults>'
    assert folded(run(cib(prim("r1") + prim("r2"), status, extra_config=sticky))) == []


def test_location_beats_stickiness_only_when_higher():
    cons = '<rsc_location id="l1" rsc="r1" node="node2" score="50"/>'
    status = both_online(running("r1"))
    assert folded(run(cib(prim("r1", {"resource-stickiness": "100"}), status, cons))) == []
    assert folded(run(cib(prim("r1", {"resource-stickiness": "10"}), status, cons))) == \
        ["* Move r1 ( node1 -> node2 )"]


def test_group_members_are_colocated_and_ordered():
    group = '<group id="g">' + prim("a") + prim("b") + prim("c") + "</group>"
    cons = '<rsc_location id="l" rsc="g" node="node2" score="10"/>'
    result = run(cib(group, both_online(), cons))
    assert folded(result) == ["* Start a ( node2 )", "* Start b ( node2 )", "* Start c ( node2 )"]
    by_key = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    a_start, b_start, c_start = (by_key[(r, "start", "node2")] for r in "abc")
    assert a_start.id in b_start.inputs and b_start.id in c_start.inputs


def test_member_inserted_before_an_unmanaged_running_member_cannot_start():
    group = '<group id="g">' + prim("a") + prim("new") + prim("c", {"is-managed": "false"}) + "</group>"
    status = both_online(running("a") + running("c"))
    result = run(cib(group, status))
    assert folded(result) == ["* Start new ( node1 ) due to unrunnable c stop (blocked)"]
    managed = '<group id="g">' + prim("a") + prim("new") + prim("c") + "</group>"
    result = run(cib(managed, status))
    assert folded(result) == ["* Start new ( node1 )", "* Restart c ( node1 ) due to required new start"]


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
    group = '<group id="g">' + prim("a") + prim("b") + "</group>"
    cons = ('<rsc_colocation id="c" rsc="b" with-rsc="r" score="INFINITY"/>'
            '<rsc_location id="ban" rsc="g" node="node1" score="-INFINITY"/>')
    status = both_online(running("r") + running("a") + running("b"))
    result = run(cib(prim("r") + group, status, cons, nodes=("node1", "node2", "node3")))
    assert folded(result) == ["* Move r ( node1 -> node2 )", "* Move a ( node1 -> node2 )",
                              "* Move b ( node1 -> node2 )"]


def test_colocation_and_anti_colocation():
    cons = ('<rsc_location id="l" rsc="r1" node="node2" score="100"/>'
            '<rsc_colocation id="c1" rsc="r2" with-rsc="r1" score="INFINITY"/>'
            '<rsc_colocation id="c2" rsc="r3" with-rsc="r1" score="-INFINITY"/>')
    result = run(cib(prim("r1") + prim("r2") + prim("r3"), both_online(), cons))
    assert folded(result) == ["* Start r1 ( node2 )", "* Start r2 ( node2 )", "* Start r3 ( node1 )"]


def test_colocation_with_stopped_primary_keeps_dependent_stopped():
    cons = ('<rsc_colocation id="c1" rsc="r2" with-rsc="r1" score="INFINITY"/>')
    result = run(cib(prim("r1", {"target-role": "Stopped"}) + prim("r2"), both_online(), cons))
    assert folded(result) == []


def test_mandatory_order_restarts_then_side():
    cons = '<rsc_order id="o" first="r1" then="r2" kind="Mandatory"/>'
    status = both_online(running("r2"))
    sticky = prim("r1") + prim("r2", {"resource-stickiness": "100"})
    assert folded(run(cib(sticky, status, cons))) == [
        "* Start r1 ( node1 )", "* Restart r2 ( node1 ) due to required r1 start"]
    optional = '<rsc_order id="o" first="r1" then="r2" kind="Optional"/>'
    assert folded(run(cib(sticky, status, optional))) == ["* Start r1 ( node1 )"]


def test_mandatory_order_blocks_then_when_first_cannot_start():
    cons = ('<rsc_order id="o" first="r1" then="r2" kind="Mandatory"/>'
            '<rsc_location id="l" rsc="r1" node="node1" score="-INFINITY"/>'
            '<rsc_location id="l2" rsc="r1" node="node2" score="-INFINITY"/>')
    result = run(cib(prim("r1") + prim("r2"), both_online(), cons))
    assert folded(result) == ["* Start r2 ( node1 ) due to unrunnable r1 start (blocked)"]


def test_target_role_stopped_stops_resource():
    result = run(cib(prim("r1", {"target-role": "Stopped"}), both_online(running("r1"))))
    assert folded(result) == ["* Stop r1 ( node1 ) due to node availability"]


def test_standby_node_from_config_or_transient_attribute():
    status = both_online(running("r1"))
    result = run(cib(prim("r1"), status, node_attrs={"node1": {"standby": "on"}}))
    assert folded(result) == ["* Move r1 ( node1 -> node2 )"]
    status = node_state("node1", lrm=running("r1"), attrs={"standby": "true"}) + node_state("node2")
    assert folded(run(cib(prim("r1"), status))) == ["* Move r1 ( node1 -> node2 )"]


def test_no_quorum_policy_stop_and_ignore():
    status = both_online(running("r1"))
    result = run(cib(prim("r1") + prim("r2"), status, quorum=False))
    assert folded(result) == ["* Stop r1 ( node1 ) due to no quorum",
                              "* Start r2 ( node2 ) due to no quorum (blocked)"]
    result = run(cib(prim("r1") + prim("r2"), status, quorum=False, options={"no-quorum-policy": "ignore"}))
    assert folded(result) == ["* Start r2 ( node2 )"]


def test_fencing_enabled_without_device_starts_nothing():
    result = run(cib(prim("r1"), both_online(), options={"stonith-enabled": "true"}))
    assert folded(result) == []
    with_device = '<primitive id="fence" class="stonith" type="fence_dummy"/>' + prim("r1")
    result = run(cib(with_device, both_online(), options={"stonith-enabled": "true"}))
    assert folded(result) == ["* Start fence ( node1 )", "* Start r1 ( node2 )"]


def test_node_without_node_state_is_offline():
    result = run(cib(prim("r1"), node_state("node2")))
    assert folded(result) == ["* Start r1 ( node2 )"]
    assert "    * OFFLINE: [ node1 ]" in render_status(result.state)


def test_lost_node_without_fencing_restarts_elsewhere():
    status = node_state("node1", online=False, lrm=running("r1")) + node_state("node2")
    result = run(cib(prim("r1"), status))
    assert folded(result) == ["* Start r1 ( node2 )"]


def test_lost_node_with_fencing_is_fenced_and_resource_moves():
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


def test_fail_count_reaching_migration_threshold_moves_resource():
    history = lrm_rsc("r1", op("r1", "start", call=1), op("r1", "monitor", rc=7, call=2, interval=10000,
                                                         expected=0))
    status = node_state("node1", lrm=history, attrs={"fail-count-r1#monitor_10000": "3"}) + node_state("node2")
    result = run(cib(prim("r1", {"migration-threshold": "3"}, monitor="10s"), status))
    assert folded(result) == ["* Recover r1 ( node1 -> node2 )"]
    assert "pcmk__primitive_assign: r1 allocation score on node1: -INFINITY" in result.scores


def test_changed_parameters_restart_resource():
    params = '<instance_attributes id="r1-ia"><nvpair id="r1-ip" name="ip" value="10.0.0.2"/></instance_attributes>'
    old = lrm_rsc("r1", op("r1", "start", call=1, digest=params_digest({"ip": "10.0.0.1"})))
    result = run(cib(prim("r1", params=params), both_online(old)))
    assert folded(result) == ["* Restart r1 ( node1 ) due to resource definition change"]
    same = lrm_rsc("r1", op("r1", "start", call=1, digest=params_digest({"ip": "10.0.0.2"})))
    assert folded(run(cib(prim("r1", params=params), both_online(same)))) == []


def _reloadable_start(rsc: str, old_params: dict[str, str], status: int, call: int) -> str:
    """A start recorded with a restart digest over no parameter: a change to the others is reloadable."""
    return lrm_rsc(rsc, f'<lrm_rsc_op id="{rsc}_last_0" operation="start" interval="0" rc-code="0" '
                        f'op-status="{status}" call-id="{call}" transition-key="1:1:0:test" '
                        f'op-digest="{params_digest(old_params)}" op-force-restart=" dummy " '
                        f'op-restart-digest="{params_digest({})}"/>')


def test_reloadable_change_reloads_but_a_pending_start_is_stopped_and_started_again():
    params = '<instance_attributes id="r1-ia"><nvpair id="r1-ip" name="ip" value="10.0.0.2"/></instance_attributes>'
    done = _reloadable_start("r1", {"ip": "10.0.0.1"}, status=0, call=1)
    assert folded(run(cib(prim("r1", params=params), both_online(done)))) == ["* Reload r1 ( node1 )"]
    pending = _reloadable_start("r1", {"ip": "10.0.0.1"}, status=-1, call=-1)
    result = run(cib(prim("r1", params=params), both_online(pending)))
    assert folded(result) == ["* Restart r1 ( node1 )"]
    assert any(line.strip().endswith("Starting node1") for line in render_status(result.state))


def test_probe_finding_resource_active_is_respected():
    history = lrm_rsc("r1", op("r1", "monitor", rc=0, call=1, expected=7))
    result = run(cib(prim("r1", {"resource-stickiness": "1"}), both_online("", history)))
    assert folded(result) == []
    assert result.state.by_id["r1"].active_on == ["node2"]


# ------------------------------------------------------------------ history and status

def test_unpack_reads_roles_failures_and_node_states():
    history = lrm_rsc("r1", op("r1", "start", rc=1, call=3, expected=0))
    status = node_state("node1", lrm=history) + node_state("node2", online=False)
    state = unpack(parse_cib(cib(prim("r1") + '<group id="g">' + prim("a") + "</group>", status,
                                 node_attrs={"node1": {"standby": "on"}})), now=NOW)
    assert state.nodes["node1"].online and state.nodes["node1"].standby
    assert not state.nodes["node2"].online
    r1 = state.by_id["r1"]
    assert r1.active_on == ["node1"] and r1.failed
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
    for action in execution_order(first.graph):
        if action.node != "node1" or action.pseudo:
            continue
        res = OpResult(rsc=action.rsc, task=action.task, interval_ms=action.interval_ms, rc=action.expected_rc,
                       call_id=action.id + 1, digest=action.digest, transition_key=f"{action.id}:1:"
                       f"{action.expected_rc}:t", node="node1", last_rc_change=int(NOW),
                       expected_rc=action.expected_rc)
        apply_status_ops(ns, result_ops(res, action.agent))
    assert start.node == "node1"
    second = schedule(root, now=NOW)
    assert second.state.by_id["r1"].active_on == ["node1"]
    assert folded(second) == []


@pytest.mark.parametrize("bad", ["<cib>", "<notcib/>"])
def test_bad_cib_is_a_clear_error(bad):
    from paceline.shared.cib import CibError
    with pytest.raises(CibError):
        parse_cib(bad)


def test_a_failure_under_old_parameters_no_longer_bans_the_node():
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
    fixed = both_online(failed_start("10.0.0.1"), attrs=banned)
    assert folded(run(cib(prim("r1", params=params), fixed, constraints))) == ["* Start r1 ( node1 )"]


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
    assert folded(missing) == [] and any("template nope" in w for w in missing.state.warnings)
