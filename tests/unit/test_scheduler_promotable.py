"""Promotable clones: promotion scores, roles, promote/demote actions and their summary and status lines.

Every expected Transition Summary here is what Pacemaker's own crm_simulate
(2.1.5) printed for the same CIB: each CIB is also a scheduler case
(tests/scheduler_cases/xml/promotable-*.xml), with the promotable CIBs whose
summary is all there is to check. These tests check the graph, the status
lines, ``explain`` and the notification variables.
"""

from __future__ import annotations

from paceline.policy.scheduler.explain import explain
from paceline.shared.cib import parse_cib
from paceline.shared.cluster import render_status
from paceline.shared.lrm import pacemaker_digest

from tests.support.cibs import NOW, cib, folded, node_state, op, prim, run

STATEFUL = ('<clone id="ms"><meta_attributes id="ms-meta"><nvpair id="ms-p" name="promotable" value="true"/>'
            '</meta_attributes><primitive id="st" class="ocf" provider="pacemaker" type="Stateful"><operations>'
            '<op id="st-mon-p" name="monitor" interval="10s" role="Promoted"/>'
            '<op id="st-mon-u" name="monitor" interval="11s" role="Unpromoted"/></operations></primitive></clone>')
IP_WITH_PROMOTED = ('<rsc_colocation id="c" rsc="ip" with-rsc="ms" with-rsc-role="Promoted" score="INFINITY"/>'
                    '<rsc_order id="o" first="ms" first-action="promote" then="ip" then-action="start"/>')


def stateful(*ops: str) -> str:
    return f'<lrm_resource id="st" class="ocf" provider="pacemaker" type="Stateful">{"".join(ops)}</lrm_resource>'


def record(task: str, call: int, interval: int = 0, rc: int = 0, expected: int | None = None) -> str:
    """A history entry with Pacemaker's digest of the (empty) configuration: nothing counts as redefined."""
    return op("st", task, rc=rc, call=call, interval=interval, expected=expected, digest=pacemaker_digest({}))


UNPROMOTED = stateful(record("start", 2), record("monitor", 3, 11000))
PROMOTED = stateful(record("promote", 3), record("monitor", 4, 10000, rc=8))


def cluster(lrm1: str, lrm2: str, score1: str | None, score2: str | None, constraints: str = IP_WITH_PROMOTED,
            standby1: bool = False) -> str:
    def attrs(score: str | None, standby: bool = False) -> dict[str, str]:
        out = {} if score is None else {"master-st": score}
        if standby:
            out["standby"] = "on"
        return out

    status = node_state("node1", lrm=lrm1, attrs=attrs(score1, standby1)) + \
        node_state("node2", lrm=lrm2, attrs=attrs(score2))
    return cib(STATEFUL + prim("ip"), status, constraints)


def test_the_instance_with_the_higher_promotion_score_is_promoted():
    result = run(cluster(UNPROMOTED, UNPROMOTED, "10", "5"))
    assert folded(result) == ["* Promote st:0 ( Unpromoted -> Promoted node1 )", "* Start ip ( node1 )"]
    monitors = [(a.node, a.interval_ms, a.expected_rc) for a in result.graph.actions
                if a.task == "monitor" and a.interval_ms]
    assert monitors == [("node1", 10000, 8)]      # the promoted role's monitor, expecting "running promoted"


def test_standby_of_the_promoted_node_promotes_the_other_instance():
    result = run(cluster(PROMOTED, UNPROMOTED, "10", "5", standby1=True))
    assert folded(result) == ["* Stop st:0 ( Promoted node1 ) due to node availability",
                              "* Promote st:1 ( Unpromoted -> Promoted node2 )", "* Start ip ( node2 )"]
    acts = {(a.task, a.node): a for a in result.graph.actions if a.rsc == "st"}
    assert acts[("demote", "node1")].id in _ancestors(result, acts[("stop", "node1")])
    assert acts[("stop", "node1")].id in _ancestors(result, acts[("promote", "node2")])


def test_higher_score_elsewhere_demotes_first_then_promotes():
    result = run(cluster(PROMOTED, UNPROMOTED, "5", "10"))
    assert folded(result) == ["* Demote st:0 ( Promoted -> Unpromoted node1 )",
                              "* Promote st:1 ( Unpromoted -> Promoted node2 )", "* Start ip ( node2 )"]
    acts = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    promote = acts[("st", "promote", "node2")]
    assert acts[("st", "demote", "node1")].id in _ancestors(result, promote)
    assert promote.id in _ancestors(result, acts[("ip", "start", "node2")])


def test_status_shows_the_roles():
    result = run(cluster(PROMOTED, UNPROMOTED, "10", "5"))
    status = [" ".join(line.split()) for line in render_status(result.state)]
    at = status.index("* Clone Set: ms [st] (promotable):")
    assert status[at + 1:at + 3] == ["* Promoted: [ node1 ]", "* Unpromoted: [ node2 ]"]


def _ancestors(result, action) -> set[int]:
    """Every action the given one waits for, directly or through others."""
    by_id = {a.id: a for a in result.graph.actions}
    seen: set[int] = set()
    todo = list(action.inputs)
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(by_id[current].inputs)
    return seen


def test_explaining_the_clone_explains_each_instance_and_its_promotion():
    text = explain(parse_cib(cluster(UNPROMOTED, UNPROMOTED, "10", "5")), "ms", now=NOW).text()
    assert "st:0 (ocf:pacemaker:Stateful): running on node1" in text and "st:1 (ocf:pacemaker:Stateful)" in text
    assert "promotable: Promoted on node1; promotion score there master-st=10" in text
    assert "promotable: Unpromoted on node2; promotion score there master-st=5" in text


# ------------------------------------------------ notify=true (lists checked against crm_simulate's graph)

def with_notify(xml: str) -> str:
    promotable = '<nvpair id="ms-p" name="promotable" value="true"/>'
    return xml.replace(promotable, promotable + '<nvpair id="ms-n" name="notify" value="true"/>')


def notifications(result) -> dict[tuple[str, str, str], dict[str, str]]:
    return {(a.meta["notify_type"], a.meta["notify_operation"], a.node): a.meta
            for a in result.graph.actions if a.task == "notify"}


def test_every_instance_hears_before_and_after_a_demote_and_a_promote():
    result = run(with_notify(cluster(PROMOTED, UNPROMOTED, "5", "10")))
    told = notifications(result)
    assert sorted(told) == [(kind, op, node) for kind in ("post", "pre") for op in ("demote", "promote")
                            for node in ("node1", "node2")]
    meta = told[("pre", "promote", "node1")]
    assert {k: meta[k] for k in ("notify_promote_resource", "notify_promote_uname", "notify_demote_resource",
                                 "notify_demote_uname", "notify_start_resource", "notify_active_resource",
                                 "notify_active_uname", "notify_promoted_resource", "notify_unpromoted_uname",
                                 "notify_inactive_resource", "notify_all_uname")} == {
        "notify_promote_resource": "st:1", "notify_promote_uname": "node2", "notify_demote_resource": "st:0",
        "notify_demote_uname": "node1", "notify_start_resource": " ", "notify_active_resource": "st:0 st:1",
        "notify_active_uname": "node1 node2", "notify_promoted_resource": "st:0", "notify_unpromoted_uname": "node2",
        "notify_inactive_resource": " ", "notify_all_uname": "node1 node2"}
    acts = {(a.rsc, a.task, a.node): a for a in result.graph.actions}
    keys = {a.id: (a.rsc, a.task) for a in result.graph.actions}
    before_promote = {keys[i] for i in _ancestors(result, acts[("st", "promote", "node2")])}
    assert ("ms", "confirmed-post_notify_demoted") in before_promote and ("ms", "confirmed-pre_notify_promote") \
        in before_promote
    assert ("ms", "confirmed-post_notify_promoted") in {keys[i] for i in
                                                        _ancestors(result, acts[("ip", "start", "node2")])}
    assert all(a.task != "notify" for a in run(cluster(PROMOTED, UNPROMOTED, "5", "10")).graph.actions)


def test_a_stopping_instance_is_told_before_but_not_after_its_stop():
    result = run(with_notify(cluster(PROMOTED, UNPROMOTED, "10", "5", standby1=True)))
    told = notifications(result)
    assert ("pre", "stop", "node1") in told and ("post", "stop", "node1") not in told
    assert ("post", "stop", "node2") in told and ("pre", "promote", "node2") in told
    assert told[("pre", "stop", "node2")]["notify_available_uname"] == "node1 node2"   # standby still counts


def test_a_settled_clone_says_nothing():
    assert notifications(run(with_notify(cluster(PROMOTED, UNPROMOTED, "10", "5")))) == {}


# ---------------------------------------------------------------- which instance is promoted (pcmk__set_instance_roles)

def test_the_clones_own_node_score_adds_to_the_promotion_priority():
    """sort_promotable_instances: each instance's priority is added to the clone's score for its node, so a
    location preference of the clone outweighs a smaller promotion score."""
    result = run(cluster(UNPROMOTED, UNPROMOTED, "10", "5", constraints='<rsc_location id="l" rsc="ms" '
                         'node="node2" score="100"/>'))
    assert folded(result) == ["* Promote st:1 ( Unpromoted -> Promoted node2 )", "* Start ip ( node1 )"]
    assert "st:1 promotion score on node2: 105" in result.scores
    assert "st:0 promotion score on node1: 10" in result.scores


def test_an_unpromoted_role_colocation_subtracts_from_the_priority_where_its_primary_is():
    """pcmk__apply_coloc_to_priority: ``ms:Unpromoted with ip`` takes its score off the instance beside ip."""
    constraints = ('<rsc_location id="l" rsc="ip" node="node1" score="100"/>'
                   '<rsc_colocation id="c" rsc="ms" rsc-role="Unpromoted" with-rsc="ip" score="50"/>')
    result = run(cluster(UNPROMOTED, UNPROMOTED, "10", "5", constraints=constraints))
    assert folded(result) == ["* Promote st:1 ( Unpromoted -> Promoted node2 )", "* Start ip ( node1 )"]
    assert "st:0 promotion score on node1: -40" in result.scores


def test_a_group_instance_whose_member_will_not_run_is_not_promoted():
    """node_to_be_promoted_on: a cloned group is promoted only if every member could be."""
    group = ('<clone id="ms"><meta_attributes id="ms-meta"><nvpair id="ms-p" name="promotable" value="true"/>'
             '<nvpair id="ms-m" name="clone-max" value="1"/></meta_attributes><group id="g">'
             '<primitive id="st" class="ocf" provider="pacemaker" type="Stateful"/>'
             '<primitive id="other" class="ocf" provider="pacemaker" type="Stateful"><meta_attributes id="o-m">'
             '<nvpair id="o-t" name="target-role" value="Stopped"/></meta_attributes></primitive></group></clone>')
    status = node_state("node1", lrm=UNPROMOTED, attrs={"master-st": "10"}) + node_state("node2")
    result = run(cib(group, status))
    assert not any("Promote" in line for line in folded(result))
