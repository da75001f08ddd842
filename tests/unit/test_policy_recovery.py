"""The failover clock: from a member lost in the DC's view to the DC's first plan with nothing left to do."""

from __future__ import annotations

from paceline.policy.recovery import RecoveryClock


def test_a_loss_is_timed_until_the_cluster_settles():
    clock = RecoveryClock()
    clock.view(None, ("a", "b", "c"), 1.0)
    assert clock.settled(2.0) is None  # nothing was lost: a first view, then a quiet plan
    clock.view(("a", "b", "c"), ("a", "b"), 10.0)
    clock.view(("a", "b"), ("a",), 11.0)  # a second loss during the first failover: one failover
    assert clock.settled(17.5) == 7.5
    assert clock.settled(18.0) is None


def test_a_node_joining_starts_nothing_and_a_non_dc_forgets():
    clock = RecoveryClock()
    clock.view(("a",), ("a", "b"), 1.0)
    assert clock.settled(2.0) is None
    clock.view(("a", "b"), ("a",), 3.0)
    clock.not_dc()
    assert clock.settled(4.0) is None
