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


# ---------------------------------------------------------------- instance assignment (pcmk__assign_instances)
# Not scheduler cases: these follow Pacemaker 2.1.6 and later (the shared cases' version); where Debian's
# crm_simulate 2.1.5 agrees on the Transition Summary, the comment says so.


def _clone(cid: str = "d-clone", rid: str = "d", **meta: str) -> str:
    pairs = "".join(f'<nvpair id="{cid}-{k}" name="{k.replace("_", "-")}" value="{v}"/>' for k, v in meta.items())
    return f'<clone id="{cid}"><meta_attributes id="{cid}-m">{pairs}</meta_attributes>{prim(rid)}</clone>'


def _scores(result, prefix: str, rid: str) -> list[str]:
    return [line for line in result.score_dump.lines() if line.startswith(f"{prefix}: {rid} ")]


def test_the_clone_and_every_instance_print_their_tables_before_the_instances_are_placed():
    cons = '<rsc_location id="ban" rsc="d-clone" node="node1" score="-INFINITY"/>'
    result = run(cib(_clone(), both_online(), cons))
    assert _scores(result, "pcmk__clone_assign", "d-clone") == [
        "pcmk__clone_assign: d-clone allocation score on node1: -INFINITY",
        "pcmk__clone_assign: d-clone allocation score on node2: 0"]
    assert len(_scores(result, "pcmk__clone_assign", "d:0")) == 2
    assert len(_scores(result, "pcmk__clone_assign", "d:1")) == 2
    assert folded(result) == ["* Start d:0 ( node2 )"]        # crm_simulate 2.1.5 too


def test_an_early_attempt_on_the_current_node_that_loses_is_undone_and_printed_twice():
    # d:0 runs on node1 (stickiness 1) but the clone prefers node2 (100): the attempt on node1 picks node2, is
    # rolled back, and the instance is assigned again in the second pass - two pcmk__primitive_assign tables.
    cons = '<rsc_location id="pref" rsc="d-clone" node="node2" score="100"/>'
    result = run(cib(_clone(clone_max="1"), both_online(up("d")), cons))
    assert _scores(result, "pcmk__primitive_assign", "d:0") == [
        "pcmk__primitive_assign: d:0 allocation score on node1: 1",
        "pcmk__primitive_assign: d:0 allocation score on node2: 100"] * 2
    assert folded(result) == ["* Move d:0 ( node1 -> node2 )"]       # crm_simulate 2.1.5 too


def test_an_instance_banned_from_its_node_goes_after_the_others_and_finds_every_node_taken():
    # A failure past migration-threshold bans the whole anonymous clone from node1 (recorded as d:0, which
    # counts for any instance number); d:1, allowed where it would run, is placed first and takes node2.
    result = run(cib(_clone(migration_threshold="1"),
                     both_online(up("d"), attrs={"fail-count-d:0#monitor_10000": "1"})))
    assert _scores(result, "pcmk__clone_assign", "d-clone")[0].endswith("node1: -INFINITY")
    assert folded(result) == ["* Stop d:0 ( node1 ) due to node availability",
                              "* Start d:1 ( node2 )"]                        # crm_simulate 2.1.5 too


def test_a_unique_clone_runs_up_to_clone_node_max_instances_on_a_node():
    result = run(cib(_clone(clone_max="4", clone_node_max="2"), both_online()))   # unique: clone-node-max > 1
    assert sorted(line.split()[-2] for line in folded(result)) == ["node1", "node1", "node2", "node2"]
    standby = node_state("node1") + node_state("node2", attrs={"standby": "on"})
    result = run(cib(_clone(clone_max="4", clone_node_max="2"), standby))
    assert folded(result) == ["* Start d:0 ( node1 )", "* Start d:1 ( node1 )"]    # crm_simulate 2.1.5 too


def test_an_anonymous_clone_runs_one_instance_per_node_whatever_clone_node_max_says():
    result = run(cib(_clone(clone_max="4", clone_node_max="2", globally_unique="false"), both_online()))
    assert folded(result) == ["* Start d:0 ( node1 )", "* Start d:1 ( node2 )"]    # crm_simulate 2.1.5 too


def test_an_anonymous_history_names_no_instance_number_that_counts():
    # Recorded as d:1, it is the first instance active nowhere: d:0; d:1 starts on node2.
    history = lrm_rsc("d:1", op("d:1", "start", digest=pacemaker_digest({})))
    result = run(cib(_clone(), both_online(history)))
    assert folded(result) == ["* Start d:1 ( node2 )"]                              # crm_simulate 2.1.5 too
    assert result.state.by_id["d:0"].status.active_on == ["node1"]


def test_a_history_no_instance_may_take_is_an_orphaned_instance_and_stops():
    # clone-max=1 and d running on both nodes: node2's d becomes the orphan d:1, which never runs.
    result = run(cib(_clone(clone_max="1"), both_online(up("d"), up("d"))))
    assert folded(result) == ["* Stop d:1 ( node2 ) due to node availability"]    # crm_simulate 2.1.5 too
    orphan = result.state.by_id["d:1"]
    assert orphan.orphan and orphan.status.active_on == ["node2"]
    assert _scores(result, "pcmk__primitive_assign", "d:1") == []      # orphans print no scores


def test_clone_min_holds_back_what_is_ordered_after_the_clone():
    # clone-min=2 but node2 is in standby: one instance can run, so web may not start.
    standby = node_state("node1") + node_state("node2", attrs={"standby": "on"})
    order = '<rsc_order id="o" first="d-clone" then="web"/>'
    result = run(cib(_clone(clone_min="2") + prim("web"), standby, order))
    assert folded(result) == ["* Start d:0 ( node1 )",
                              "* Start web ( node1 ) due to unrunnable clone-one-or-more:o (blocked)"]   # 2.1.5 too
    both = run(cib(_clone(clone_min="2") + prim("web"), both_online(), order))
    assert "* Start web ( node1 )" in folded(both)


def test_an_interleaved_clone_colocated_with_another_goes_with_one_instance_of_it_per_node():
    # Each instance of a is colocated with the instance of b on one node (the first of its best nodes, ties
    # to the node with fewer resources), not with b as a whole: its table keeps that node only.
    nodes = ("node1", "node2", "node3")
    meta = {"clone_max": "3", "interleave": "true"}
    cons = '<rsc_colocation id="c" rsc="a-clone" with-rsc="b-clone" score="INFINITY"/>'
    result = run(cib(_clone("a-clone", "a", **meta) + _clone("b-clone", "b", clone_max="3"),
                     "".join(node_state(n) for n in nodes), cons, nodes=nodes))
    for i in range(3):
        table = _scores(result, "pcmk__primitive_assign", f"a:{i}")
        assert sum(1 for line in table if not line.endswith("-INFINITY")) == 1, table
    starts = sorted(line.split()[-2] for line in folded(result) if line.startswith("* Start a:"))
    assert starts == ["node1", "node2", "node3"]        # crm_simulate 2.1.5 too


def test_what_is_colocated_with_a_clone_weighs_on_each_instance():
    # ip follows the clone and prefers node1: each instance's table carries ip's 500 there (Pacemaker 2.1.7+,
    # pcmk__with_clone_colocations; 2.1.5 left instances alone), and the clone's own table too.
    cons = ('<rsc_colocation id="c" rsc="ip" with-rsc="d-clone" score="INFINITY"/>'
            '<rsc_location id="pref" rsc="ip" node="node1" score="500"/>')
    result = run(cib(_clone() + prim("ip"), both_online(), cons))
    assert "pcmk__clone_assign: d-clone allocation score on node1: 500" in result.score_dump.lines()
    assert _scores(result, "pcmk__primitive_assign", "d:0") == [
        "pcmk__primitive_assign: d:0 allocation score on node1: 500",
        "pcmk__primitive_assign: d:0 allocation score on node2: 0"]


# ---------------------------------------------------------------- reasons, in Pacemaker's order of flag updates

def test_a_start_made_only_for_an_ordering_is_updated_first_so_its_requirement_names_the_reason():
    """rsc_order_first creates a stopping resource's start only as the ordering is applied, so
    pcmk__apply_orderings updates it before anything else: ``b start`` is required (after its stop) before
    it blocks the clone's start, and the instance's stop is "due to required b start" (as crm_simulate
    2.1.5 prints for this CIB)."""
    clone = ('<clone id="a-clone"><meta_attributes id="am"><nvpair id="am1" name="clone-max" value="1"/>'
             '</meta_attributes>' + prim("a") + "</clone>")
    result = run(cib(prim("b", {"target-role": "Stopped"}) + clone, both_online(up("a", "b")),
                     '<rsc_order id="o" first="b" first-action="start" then="a-clone" then-action="start"/>'))
    assert folded(result) == ["* Stop b ( node1 ) due to node availability",
                              "* Stop a:0 ( node1 ) due to required b start"]


def test_an_interleaved_instance_without_a_partner_stops_without_a_reason():
    """update_interleaved_actions unassigns a then-instance with no first-instance on its node
    (pcmk__assign_resource to no node), which names no reason (crm_simulate 2.1.5 agrees)."""
    first = '<clone id="c1-clone">' + prim("c1") + "</clone>"
    then = ('<clone id="c2-clone"><meta_attributes id="cm"><nvpair id="cm1" name="interleave" value="true"/>'
            '</meta_attributes>' + prim("c2") + "</clone>")
    result = run(cib(first + then, both_online(up("c1", "c2"), up("c1", "c2")),
                     '<rsc_order id="o" first="c1-clone" then="c2-clone"/>'
                     '<rsc_location id="l" rsc="c1-clone" node="node1" score="-INFINITY"/>'))
    assert folded(result) == ["* Stop c1:0 ( node1 ) due to node availability", "* Stop c2:0 ( node1 )"]


def test_interleaved_clones_without_partners_are_unassigned_down_the_chain_whatever_the_constraint_order():
    """update_interleaved_actions looks the partner up as flags propagate: c1 is disabled, so c2's instances
    are unassigned, and then c3's, although c2 -> c3 comes first in the CIB (crm_simulate 2.1.5: nothing
    to do at all)."""
    def interleaved(cid: str, rid: str, extra: str = "") -> str:
        return (f'<clone id="{cid}"><meta_attributes id="{cid}-m"><nvpair id="{cid}-i" name="interleave" '
                f'value="true"/>{extra}</meta_attributes>' + prim(rid) + "</clone>")

    disabled = '<nvpair id="c1-t" name="target-role" value="Stopped"/>'
    orders = '<rsc_order id="o2" first="c2" then="c3"/><rsc_order id="o1" first="c1" then="c2"/>'
    result = run(cib(interleaved("c1", "r1", disabled) + interleaved("c2", "r2") + interleaved("c3", "r3"),
                     both_online(), orders))
    assert folded(result) == []


def test_a_mandatory_colocation_with_a_role_of_a_clone_that_has_no_roles_needs_only_an_instance():
    """pcmk__clone_apply_coloc_score: the role of a mandatory colocation is looked at only for a promotable
    primary; with a plain clone, any instance will do (crm_simulate 2.1.5 keeps ip where it runs)."""
    result = run(cib('<clone id="h">' + prim("hp") + "</clone>" + prim("ip"), both_online(up("hp", "ip"), up("hp")),
                     '<rsc_colocation id="co" rsc="ip" with-rsc="h" with-rsc-role="Promoted" score="INFINITY"/>'))
    assert folded(result) == []


def test_an_interleaved_colocation_with_a_cloned_group_follows_the_partner_groups_last_member():
    """pcmk__clone_apply_coloc_score pairs each instance with the partner instance on its node and applies the
    colocation as that instance's kind does: a group by its last member when mandatory
    (pcmk__group_apply_coloc_score). That member will not run, so neither may b (crm_simulate 2.1.5
    agrees)."""
    group = ('<clone id="gc"><meta_attributes id="gc-m"><nvpair id="gc-i" name="interleave" value="true"/>'
             '</meta_attributes><group id="g">' + prim("first") + prim("last", {"target-role": "Stopped"})
             + "</group></clone>")
    follower = ('<clone id="bc"><meta_attributes id="bc-m"><nvpair id="bc-i" name="interleave" value="true"/>'
                "</meta_attributes>" + prim("b") + "</clone>")
    result = run(cib(group + follower, both_online(up("first", "last", "b"), up("first", "last", "b")),
                     '<rsc_colocation id="co" rsc="bc" with-rsc="gc" score="INFINITY"/>'))
    assert folded(result) == ["* Stop last:0 ( node1 ) due to node availability",
                              "* Stop last:1 ( node2 ) due to node availability",
                              "* Stop b:0 ( node1 ) due to node availability",
                              "* Stop b:1 ( node2 ) due to node availability"]
