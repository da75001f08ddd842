"""votequorum arithmetic, the view record and the node_state values membership writes."""

from __future__ import annotations

import pytest
from paceline.membership.node_state import CibNodes, node_state_ops, recorded_online
from paceline.membership.quorum import QuorumCalculator, QuorumSettings, expected_votes, quorum_threshold
from paceline.membership.view import MembershipView
from paceline.shared import cib, config, lrm


@pytest.mark.parametrize(("expected", "quorum"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (16, 9)])
def test_quorum_is_a_strict_majority(expected, quorum):
    assert quorum_threshold(QuorumSettings(), expected) == quorum


def test_expected_votes_sources_in_order():
    assert expected_votes(QuorumSettings(expected_votes=5), cib_nodes=3, ever_seen=2, total_votes=1) == 5
    assert expected_votes(QuorumSettings(), cib_nodes=3, ever_seen=2, total_votes=1) == 3
    assert expected_votes(QuorumSettings(), cib_nodes=0, ever_seen=2, total_votes=1) == 2
    assert expected_votes(QuorumSettings(), cib_nodes=None, ever_seen=2, total_votes=1) == 2


def test_expected_votes_never_below_votes_present():
    assert expected_votes(QuorumSettings(expected_votes=2), cib_nodes=None, ever_seen=4, total_votes=4) == 4


def test_three_nodes_keep_quorum_with_two_and_lose_it_with_one():
    calc = QuorumCalculator(QuorumSettings())
    assert calc.evaluate(3, 3, 3).quorate
    two = calc.evaluate(2, 3, 3)
    assert two.quorate and (two.expected_votes, two.quorum, two.total_votes) == (3, 2, 2)
    assert not calc.evaluate(1, 3, 3).quorate


def test_configured_expected_votes_wins_over_the_cib():
    calc = QuorumCalculator(QuorumSettings(expected_votes=2))
    state = calc.evaluate(1, 5, 1)
    assert (state.expected_votes, state.quorum, state.quorate) == (2, 2, False)


def test_fallback_to_nodes_ever_seen():
    calc = QuorumCalculator(QuorumSettings())
    assert calc.evaluate(2, 0, 2).quorate
    lost_one = calc.evaluate(1, 0, 2)
    assert (lost_one.expected_votes, lost_one.quorate) == (2, False)


def test_two_node_survivor_keeps_quorum_after_both_were_seen():
    calc = QuorumCalculator(QuorumSettings(two_node=True))
    assert calc.evaluate(2, 2, 2).quorate
    alone = calc.evaluate(1, 2, 2)
    assert alone.quorate and alone.quorum == 1 and alone.two_node


def test_two_node_implies_wait_for_all_at_startup():
    calc = QuorumCalculator(QuorumSettings(two_node=True))
    first = calc.evaluate(1, 2, 1)
    assert not first.quorate and first.waiting_for_all and first.quorum == 1
    assert calc.evaluate(2, 2, 2).quorate
    assert calc.evaluate(1, 2, 2).quorate


def test_two_node_is_ignored_outside_two_node_clusters():
    calc = QuorumCalculator(QuorumSettings(two_node=True))
    state = calc.evaluate(1, 3, 3)
    assert (state.quorum, state.two_node, state.quorate) == (2, False, False)


def test_wait_for_all_needs_everyone_present_at_once():
    calc = QuorumCalculator(QuorumSettings(wait_for_all=True))
    assert not calc.evaluate(2, 3, 2).quorate  # majority, but not everybody yet
    assert calc.evaluate(3, 3, 3).quorate
    assert calc.evaluate(2, 3, 3).quorate  # the latch holds afterwards
    assert not calc.evaluate(1, 3, 3).quorate  # but majority still rules


def test_never_quorate_before_the_expected_count_is_known():
    calc = QuorumCalculator(QuorumSettings(two_node=True))
    assert not calc.evaluate(1, None, 1).quorate  # alone, CIB not read yet
    assert not calc.evaluate(1, 2, 1).quorate  # ... and that did not set wait_for_all's latch
    assert QuorumCalculator(QuorumSettings(expected_votes=1)).evaluate(1, None, 1).quorate


def test_settings_from_config():
    cfg = config.load(env={}, expected_votes=3, two_node=True, wait_for_all=False)
    assert QuorumSettings.from_config(cfg) == QuorumSettings(3, True, False)


def test_view_body_carries_members_and_quorum():
    state = QuorumCalculator(QuorumSettings()).evaluate(2, 3, 3)
    view = MembershipView(node="n1", incarnation="x", ring_id=4, members=("n1", "n2"), quorum=state,
                          lost=("n3",))
    body = view.to_body()
    assert body["members"] == ["n1", "n2"] and body["ring_id"] == 4 and body["lost"] == ["n3"]
    assert (body["quorate"], body["expected_votes"], body["quorum"], body["total_votes"]) == (True, 3, 2, 2)
    assert view.same_state(MembershipView("n1", "x", 4, ("n1", "n2"), state))
    assert not view.same_state(MembershipView("n1", "x", 5, ("n1", "n2"), state))
    assert body["dc"] == ""


def test_view_names_its_dc_and_a_new_dc_is_news():
    state = QuorumCalculator(QuorumSettings()).evaluate(2, 2, 2)
    view = MembershipView("n1", "x", 4, ("n1", "n2"), state, dc="n2")
    assert view.to_message().dc == "n2" and MembershipView.from_body(view.to_body()) == view
    assert not view.same_state(MembershipView("n1", "x", 4, ("n1", "n2"), state, dc="n1"))


# ---------------------------------------------------------------- node_state

def test_cib_nodes_map_unames_to_ids():
    nodes = CibNodes.from_xml(cib.serialize(cib.empty(["alpha", "beta"])))
    assert nodes.count == 2
    assert nodes.node_id("beta") == "2"
    assert nodes.node_id("gamma") == "gamma"  # undeclared: the uname stands in


def test_node_state_ops_use_pacemakers_values():
    ns = cib.etree.Element("node_state", id="probe", uname="alpha")
    lrm.apply_status_ops(ns, node_state_ops("1", "alpha", online=True))
    assert (ns.get("id"), ns.get("in_ccm"), ns.get("crmd"), ns.get("join"), ns.get("expected")) == (
        "1", "true", "online", "member", "member")
    lrm.apply_status_ops(ns, node_state_ops("1", "alpha", online=False))
    # A lost peer keeps expected="member": it left without a clean shutdown, so it is fenced if fencing is on.
    assert (ns.get("in_ccm"), ns.get("crmd"), ns.get("join"), ns.get("expected")) == (
        "false", "offline", "down", "member")


def test_recorded_online_needs_every_member_attribute():
    root = cib.empty(["alpha"])
    assert not recorded_online(root, "alpha")  # no node_state at all
    ns = cib.node_state(root, "alpha")
    lrm.apply_status_ops(ns, node_state_ops("1", "alpha", online=True))
    assert recorded_online(root, "alpha")
    ns.set("join", "pending")
    assert not recorded_online(root, "alpha")


def test_recorded_online_under_another_id_is_not_recorded():
    root = cib.empty(["alpha"])
    lrm.apply_status_ops(cib.node_state(root, "alpha"), node_state_ops("alpha", "alpha", online=True))
    assert recorded_online(root, "alpha", "alpha")
    assert not recorded_online(root, "alpha", "1")  # <nodes> declared the node after our write
