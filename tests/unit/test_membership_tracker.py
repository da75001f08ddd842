"""The failure detector with a fake clock: the handshake, losses, restarts, ring ids, stalls."""

from __future__ import annotations

import pytest
from paceline.membership.heartbeat import Heartbeat
from paceline.membership.tracker import MembershipChange, MembershipTracker
from paceline.shared import codec

TOKEN = 1.0


def hb(node: str, incarnation: str = "i1", ring_id: int = 0, seq: int = 1, votes: int = 1,
       hears: tuple[str, ...] = ("n1",), candidate: int = 0) -> Heartbeat:
    """A peer's heartbeat; by default it hears n1 (the tracker under test)."""
    return Heartbeat(node=node, incarnation=incarnation, ring_id=ring_id, seq=seq, votes=votes, hears=hears,
                     candidate=candidate)


def join(tracker: MembershipTracker, node: str, now: float, **fields) -> MembershipChange:
    """Two heartbeats of ``node`` that hear the tracker: the first makes it heard, the second admits it."""
    assert tracker.observe(hb(node, seq=1, **fields), now) is None
    change = tracker.observe(hb(node, seq=2, **fields), now)
    assert change is not None and node in change.members
    return change


@pytest.fixture
def tracker() -> MembershipTracker:
    t = MembershipTracker("n1", "self", TOKEN)
    t.form()
    return t


def test_a_starting_node_forms_a_view_of_itself():
    t = MembershipTracker("n1", "self", TOKEN)
    change = t.form()
    assert change.members == ("n1",) and change.joined == ("n1",) and change.ring_id == 1
    assert t.total_votes == 1 and t.hears == () and change.dc == ""


def test_a_peer_joins_on_its_second_heartbeat_and_repeats_change_nothing(tracker):
    assert tracker.observe(hb("n2"), 0.0) is None  # heard: it may have written this before it dropped us
    assert tracker.hears == ("n2",) and tracker.members == ("n1",)
    change = tracker.observe(hb("n2", seq=2), 0.2)
    assert change is not None
    assert change.members == ("n1", "n2") and change.joined == ("n2",) and change.lost == ()
    assert tracker.observe(hb("n2", seq=3), 0.4) is None
    assert tracker.total_votes == 2


def test_a_heard_peer_that_does_not_hear_us_is_not_a_member(tracker):
    for seq in (1, 2, 3):
        assert tracker.observe(hb("n2", seq=seq, hears=()), seq * 0.2) is None
    assert tracker.hears == ("n2",) and tracker.members == ("n1",) and tracker.total_votes == 1
    change = tracker.observe(hb("n2", seq=4, hears=("n1", "n3")), 0.8)  # it heard our heartbeat: handshake done
    assert change is not None and change.joined == ("n2",)


def test_two_trackers_admit_each_other_by_the_handshake():
    a, b = MembershipTracker("a", "ia", TOKEN), MembershipTracker("b", "ib", TOKEN)
    a.form(), b.form()

    def beat(t: MembershipTracker, seq: int) -> Heartbeat:
        return Heartbeat(t.node, t.incarnation, t.ring_id, seq, hears=t.hears, candidate=t.candidate)

    assert b.observe(beat(a, 1), 0.0) is None  # b hears a
    assert a.observe(beat(b, 1), 0.1) is None  # a hears b; b's heartbeat lists a, but it is its first
    assert b.observe(beat(a, 2), 0.2) is not None and b.members == ("a", "b")  # a lists b now
    assert a.observe(beat(b, 2), 0.3) is not None and a.members == ("a", "b")


def test_a_peer_that_stops_hearing_us_is_dropped_at_once(tracker):
    join(tracker, "n2", 0.0)
    join(tracker, "n3", 0.0)
    change = tracker.observe(hb("n2", seq=3, hears=("n3",)), 0.2)
    assert change is not None and change.lost == ("n2",) and change.members == ("n1", "n3")
    assert tracker.hears == ("n2", "n3")  # still heard, and said so: it can admit us again
    assert tracker.tick(0.3) is None
    change = tracker.observe(hb("n2", seq=4), 0.4)
    assert change is not None and change.joined == ("n2",)


def test_members_are_sorted(tracker):
    join(tracker, "zeta", 0.0)
    change = join(tracker, "alpha", 0.0)
    assert change.members == ("alpha", "n1", "zeta")


def test_peer_is_lost_only_after_the_token_timeout(tracker):
    join(tracker, "n2", 10.0)
    assert tracker.tick(10.0 + TOKEN) is None  # exactly the timeout: still a member
    change = tracker.tick(10.0 + TOKEN + 0.01)
    assert change is not None and change.lost == ("n2",) and change.members == ("n1",)
    assert tracker.hears == ()
    assert tracker.tick(20.0) is None  # reported once


def test_a_heard_peer_that_falls_silent_leaves_no_view_change(tracker):
    tracker.observe(hb("n2", hears=()), 0.0)
    assert all(tracker.tick(t) is None for t in (0.4, 0.8, 1.1))
    assert tracker.hears == ()


def test_heartbeats_keep_a_peer_alive(tracker):
    join(tracker, "n2", 0.0)
    for i in range(20):
        tracker.observe(hb("n2", seq=3 + i), i * 0.5)
        assert tracker.tick(i * 0.5 + 0.6) is None
    assert "n2" in tracker.members


def test_an_older_heartbeat_overtaken_by_a_newer_one_does_not_undo_it(tracker):
    join(tracker, "n2", 0.0)
    assert tracker.observe(hb("n2", seq=1, hears=()), 0.1) is None
    assert tracker.members == ("n1", "n2")


def test_a_local_stall_is_not_held_against_peers(tracker):
    join(tracker, "n2", 0.0)
    assert tracker.tick(0.1) is None
    assert tracker.tick(5.0) is None  # we were frozen for 4.9 s; n2's heartbeats are still unread
    tracker.observe(hb("n2", seq=3), 5.01)
    assert tracker.tick(5.1) is None and "n2" in tracker.members


def test_a_peer_silent_after_a_local_stall_is_still_lost(tracker):
    join(tracker, "n2", 0.0)
    tracker.tick(0.1)
    tracker.tick(5.0)
    for t in (5.1, 5.3, 5.5, 5.7, 5.85):
        assert tracker.tick(t) is None
    change = tracker.tick(6.0)
    assert change is not None and change.lost == ("n2",)


def test_after_a_stall_the_queued_heartbeats_tell_who_dropped_us(tracker):
    join(tracker, "n2", 0.0)
    tracker.tick(0.1)
    tracker.tick(5.0)  # resumed
    assert tracker.observe(hb("n2", seq=3), 5.0) is None  # queued from before it lost us
    change = tracker.observe(hb("n2", seq=9, hears=()), 5.0)  # queued from after
    assert change is not None and change.lost == ("n2",) and change.members == ("n1",)


def test_several_peers_lost_in_one_change(tracker):
    join(tracker, "n2", 0.0)
    join(tracker, "n3", 0.0)
    join(tracker, "n4", 0.9)
    change = tracker.tick(1.5)
    assert change is not None and change.lost == ("n2", "n3") and change.members == ("n1", "n4")


def test_lost_peer_rejoins_by_the_handshake(tracker):
    join(tracker, "n2", 0.0)
    tracker.tick(5.0)
    assert tracker.observe(hb("n2", seq=30), 5.1) is None  # heard anew: its first heartbeat does not admit it
    change = tracker.observe(hb("n2", seq=31), 5.3)
    assert change is not None and change.joined == ("n2",)


def test_a_restarted_peer_leaves_and_rejoins_by_the_handshake(tracker):
    join(tracker, "n2", 0.0, incarnation="a")
    ring = tracker.ring_id
    change = tracker.observe(hb("n2", incarnation="b", seq=1, hears=()), 0.3)  # a fresh process hears nobody
    assert change is not None and change.lost == ("n2",) and change.members == ("n1",) and change.ring_id > ring
    change = tracker.observe(hb("n2", incarnation="b", seq=2), 0.5)
    assert change is not None and change.joined == ("n2",)


def test_a_restarted_peer_that_already_hears_us_is_reported_restarted(tracker):
    join(tracker, "n2", 0.0, incarnation="a")
    ring = tracker.ring_id
    change = tracker.observe(hb("n2", incarnation="b", seq=1), 0.3)
    assert change is not None and change.restarted == ("n2",) and change.members == ("n1", "n2")
    assert change.joined == change.lost == () and change.ring_id > ring


def test_late_heartbeat_of_the_old_incarnation_is_ignored(tracker):
    join(tracker, "n2", 0.0, incarnation="a")
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
    rings.append(join(tracker, "n2", 0.0, ring_id=0).ring_id)
    rings.append(join(tracker, "n3", 0.0, ring_id=41).ring_id)
    rings.append(tracker.tick(5.0).ring_id)
    assert rings == sorted(set(rings))
    assert rings[2] == 42  # max(seen from peers, own) + 1


def test_ring_ids_seen_without_a_change_still_raise_the_next_ring(tracker):
    tracker.observe(hb("n2", ring_id=3, hears=()), 0.0)
    tracker.observe(hb("n2", ring_id=17, seq=2, hears=()), 0.5)  # heard, not a member: no change
    change = join(tracker, "n3", 0.6)
    assert change.ring_id == 18


def test_a_non_member_counts_no_votes_and_changes_nothing(tracker):
    tracker.observe(hb("n2", votes=2, hears=()), 0.0)
    assert tracker.observe(hb("n2", votes=3, seq=2, hears=()), 0.1) is None
    assert tracker.total_votes == 1


def test_candidacy_change_of_a_member_is_a_view_change_and_moves_the_dc(tracker):
    join(tracker, "n2", 0.0, candidate=5)
    assert tracker.dc == "n2"
    change = tracker.observe(hb("n2", seq=3, candidate=0), 0.2)
    assert change is not None and change.dc == "" and change.members == ("n1", "n2")


def test_ever_seen_remembers_lost_nodes(tracker):
    join(tracker, "n2", 0.0)
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


def test_a_peer_claiming_more_votes_counts_one(tracker):
    """The issue's attack: a node's heartbeats claiming two votes made a lone node (of three) quorate. Votes are
    configuration; what a heartbeat claims is not believed."""
    join(tracker, "n2", 0.0, votes=2)
    assert tracker.total_votes == 2
    tracker.observe(hb("n2", seq=3, votes=100), 0.2)
    assert tracker.total_votes == 2


def test_two_live_processes_under_one_name_leave_it_out_until_one_falls_silent(tracker):
    """A stolen key heartbeating under n2's name made the real n2 ignored for good; now n2 is contested: out
    of the view while both speak, and back by the handshake once the impostor stops."""
    join(tracker, "n2", 0.0, incarnation="real")
    tracker.observe(hb("n2", incarnation="forged", seq=1), 0.1)        # looks like a restart at first
    assert tracker.observe(hb("n2", incarnation="real", seq=60), 0.2) is None    # in flight: ignored
    tracker.observe(hb("n2", incarnation="forged", seq=2), 0.6)
    tracker.observe(hb("n2", incarnation="forged", seq=3), 1.1)
    change = tracker.observe(hb("n2", incarnation="real", seq=61), 1.2)          # still alive: contested
    assert change is not None and change.lost == ("n2",) and tracker.members == ("n1",)
    assert sorted(tracker.contested["n2"]) == ["forged", "real"]
    assert tracker.observe(hb("n2", incarnation="forged", seq=4), 1.6) is None  # both speak: still out
    assert tracker.observe(hb("n2", incarnation="real", seq=62), 1.7) is None
    for i, t in enumerate((2.2, 2.7)):                                         # the impostor has stopped
        tracker.observe(hb("n2", incarnation="real", seq=63 + i), t)
    assert "n2" not in tracker.contested and tracker.members == ("n1",)
    change = tracker.observe(hb("n2", incarnation="real", seq=70), 2.9)
    assert change is not None and change.joined == ("n2",) and tracker.peers["n2"].incarnation == "real"
    assert tracker.observe(hb("n2", incarnation="forged", seq=5), 3.0) is None  # its late heartbeat: ignored
