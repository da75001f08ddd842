"""The failure detector with a fake clock: joins, losses, restarts, ring ids."""

from __future__ import annotations

import pytest
from paceline.membership.heartbeat import Heartbeat
from paceline.membership.tracker import MembershipTracker
from paceline.shared import codec

TOKEN = 1.0


def hb(node: str, incarnation: str = "i1", ring_id: int = 0, seq: int = 1, votes: int = 1) -> Heartbeat:
    return Heartbeat(node=node, incarnation=incarnation, ring_id=ring_id, seq=seq, votes=votes)


@pytest.fixture
def tracker() -> MembershipTracker:
    t = MembershipTracker("n1", "self", TOKEN)
    t.form()
    return t


def test_a_starting_node_forms_a_view_of_itself():
    t = MembershipTracker("n1", "self", TOKEN)
    change = t.form()
    assert change.members == ("n1",) and change.joined == ("n1",) and change.ring_id == 1
    assert t.total_votes == 1


def test_first_heartbeat_joins_and_repeats_change_nothing(tracker):
    change = tracker.observe(hb("n2"), 0.0)
    assert change is not None
    assert change.members == ("n1", "n2") and change.joined == ("n2",) and change.lost == ()
    assert tracker.observe(hb("n2", seq=2), 0.2) is None
    assert tracker.total_votes == 2


def test_members_are_sorted(tracker):
    tracker.observe(hb("zeta"), 0.0)
    change = tracker.observe(hb("alpha"), 0.0)
    assert change is not None and change.members == ("alpha", "n1", "zeta")


def test_peer_is_lost_only_after_the_token_timeout(tracker):
    tracker.observe(hb("n2"), 10.0)
    assert tracker.tick(10.0 + TOKEN) is None  # exactly the timeout: still a member
    change = tracker.tick(10.0 + TOKEN + 0.01)
    assert change is not None and change.lost == ("n2",) and change.members == ("n1",)
    assert tracker.tick(20.0) is None  # reported once


def test_heartbeats_keep_a_peer_alive(tracker):
    for i in range(20):
        tracker.observe(hb("n2", seq=i), i * 0.5)
        assert tracker.tick(i * 0.5 + 0.6) is None
    assert "n2" in tracker.members


def test_a_local_stall_is_not_held_against_peers(tracker):
    tracker.observe(hb("n2"), 0.0)
    assert tracker.tick(0.1) is None
    assert tracker.tick(5.0) is None  # we were frozen for 4.9 s; n2's heartbeats are still unread
    tracker.observe(hb("n2", seq=2), 5.01)
    assert tracker.tick(5.1) is None and "n2" in tracker.members


def test_a_peer_silent_after_a_local_stall_is_still_lost(tracker):
    tracker.observe(hb("n2"), 0.0)
    tracker.tick(0.1)
    tracker.tick(5.0)
    for t in (5.1, 5.3, 5.5, 5.7, 5.85):
        assert tracker.tick(t) is None
    change = tracker.tick(6.0)
    assert change is not None and change.lost == ("n2",)


def test_several_peers_lost_in_one_change(tracker):
    tracker.observe(hb("n2"), 0.0)
    tracker.observe(hb("n3"), 0.0)
    tracker.observe(hb("n4"), 0.9)
    change = tracker.tick(1.5)
    assert change is not None and change.lost == ("n2", "n3") and change.members == ("n1", "n4")


def test_lost_peer_rejoins(tracker):
    tracker.observe(hb("n2"), 0.0)
    tracker.tick(5.0)
    change = tracker.observe(hb("n2", seq=30), 5.1)
    assert change is not None and change.joined == ("n2",)


def test_restart_with_new_incarnation_is_a_change_even_without_loss(tracker):
    tracker.observe(hb("n2", incarnation="a"), 0.0)
    ring = tracker.ring_id
    change = tracker.observe(hb("n2", incarnation="b", seq=1), 0.3)
    assert change is not None and change.restarted == ("n2",) and change.members == ("n1", "n2")
    assert change.ring_id > ring


def test_late_heartbeat_of_the_old_incarnation_is_ignored(tracker):
    tracker.observe(hb("n2", incarnation="a", seq=50), 0.0)
    tracker.observe(hb("n2", incarnation="b", seq=1), 0.3)
    assert tracker.observe(hb("n2", incarnation="a", seq=51), 0.4) is None
    assert tracker.peers["n2"].incarnation == "b"


def test_own_heartbeats_and_impostors_do_not_change_the_view(tracker):
    ring = tracker.ring_id
    assert tracker.observe(hb("n1", incarnation="self"), 0.0) is None
    impostor = hb("n1", incarnation="other")
    assert tracker.is_duplicate_of_self(impostor)
    assert tracker.observe(impostor, 0.0) is None
    assert tracker.members == ("n1",) and tracker.ring_id == ring


def test_ring_id_grows_on_every_change_and_above_peers(tracker):
    rings = [tracker.ring_id]
    rings.append(tracker.observe(hb("n2", ring_id=0), 0.0).ring_id)
    rings.append(tracker.observe(hb("n3", ring_id=41), 0.0).ring_id)
    rings.append(tracker.tick(5.0).ring_id)
    assert rings == sorted(set(rings))
    assert rings[2] == 42  # max(seen from peers, own) + 1


def test_ring_ids_seen_without_a_change_still_raise_the_next_ring(tracker):
    tracker.observe(hb("n2", ring_id=3), 0.0)
    tracker.observe(hb("n2", ring_id=17, seq=2), 0.5)
    change = tracker.observe(hb("n3"), 0.6)
    assert change is not None and change.ring_id == 18


def test_votes_change_is_a_view_change(tracker):
    tracker.observe(hb("n2"), 0.0)
    change = tracker.observe(hb("n2", votes=2, seq=2), 0.1)
    assert change is not None and tracker.total_votes == 3


def test_ever_seen_remembers_lost_nodes(tracker):
    tracker.observe(hb("n2"), 0.0)
    tracker.tick(9.0)
    assert tracker.ever_seen == {"n1", "n2"}


def test_non_positive_token_timeout_is_refused():
    with pytest.raises(ValueError):
        MembershipTracker("n1", "x", 0)


# ---------------------------------------------------------------- heartbeat messages

def test_heartbeat_round_trips_through_the_codec():
    beat = hb("n2", ring_id=7, seq=3)
    env = codec.decode(codec.encode("heartbeat", beat.to_body()), "heartbeat")
    assert Heartbeat.from_body(env.body).on_subject("paceline.default.membership.heartbeat.n2") == beat


@pytest.mark.parametrize("body", [
    {},
    {"node": "n2", "incarnation": "a", "ring_id": "1", "seq": 1},
    {"node": "n2", "incarnation": "a", "ring_id": 1, "seq": -1},
    {"node": "n2", "incarnation": "", "ring_id": 1, "seq": 1},
    {"node": "bad.name", "incarnation": "a", "ring_id": 1, "seq": 1},
    {"node": "n2", "incarnation": "a", "ring_id": True, "seq": 1},
])
def test_malformed_heartbeats_are_rejected(body):
    with pytest.raises(codec.MalformedMessage):
        Heartbeat.from_body(body)


def test_heartbeat_on_another_nodes_subject_is_rejected():
    with pytest.raises(codec.MalformedMessage):
        Heartbeat.from_body(hb("n2").to_body()).on_subject("paceline.default.membership.heartbeat.n3")
