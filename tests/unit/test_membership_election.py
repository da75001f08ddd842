"""DC candidacy and election: the pure rule, and simulated clusters of trackers on a fake clock and bus."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import pytest
from paceline.membership.election import NOVICE, Candidacy, elect
from paceline.membership.heartbeat import Heartbeat
from paceline.membership.quorum import QuorumCalculator, QuorumSettings
from paceline.membership.tracker import MembershipChange, MembershipTracker

TOKEN = 1.0
INTERVAL = 0.2
STEP = 0.1


# ---------------------------------------------------------------- the rule

def test_the_lowest_number_wins_and_names_break_ties():
    assert elect({"a": 7, "b": 3, "c": 3}) == "b"
    assert elect({"a": 0, "b": 9}) == "b"


def test_no_candidate_no_dc():
    assert elect({}) == "" and elect({"a": 0, "b": 0}) == ""


def test_candidacy_follows_the_local_policy():
    c = Candidacy(TOKEN)
    assert c.heard_policy("p1", 0.0)  # rising edge
    assert not c.heard_policy("p1", 0.5)
    assert c.heard_policy("p2", 0.6)  # the policy restarted
    c.renew(4, 0.6)
    assert c.number == NOVICE + 4  # not quorate yet: behind every quorate candidate
    c.quorum_verdict(True)
    c.renew(5, 0.6)
    assert c.number == 5 and not c.expire(1.6)
    assert c.expire(1.7) and c.number == 0
    c.renew(9, 1.8)
    assert c.number == 0  # a renewal while the policy is silent does not make us a candidate


def test_quorum_edges_renew_only_a_candidate():
    c = Candidacy(TOKEN)
    assert not c.quorum_verdict(True)  # not a candidate
    c.heard_policy("p", 0.0)
    c.renew(2, 0.0)
    assert not c.quorum_verdict(True) and c.quorum_verdict(False) and c.quorum_verdict(True)


# ---------------------------------------------------------------- simulated clusters

@dataclass
class Node:
    """One node: its tracker, quorum, inbox, and every view it published."""

    tracker: MembershipTracker
    quorum: QuorumCalculator
    policy: str | None = "p1"  # the local policy's incarnation; None while it does not run
    paused: bool = False
    seq: int = 0
    inbox: deque[Heartbeat] = field(default_factory=deque)
    views: list[tuple[float, MembershipChange, bool]] = field(default_factory=list)

    @property
    def view(self) -> MembershipChange:
        return self.views[-1][1]

    @property
    def quorate(self) -> bool:
        return self.views[-1][2]


class Cluster:
    """Trackers exchanging heartbeats every INTERVAL on a lossless bus, glued as the service glues them."""

    def __init__(self, names: list[str], settings: QuorumSettings | None = None):
        settings = settings or QuorumSettings(expected_votes=len(names))
        self.now = 0.0
        self.nodes = {n: Node(MembershipTracker(n, f"{n}-1", TOKEN), QuorumCalculator(settings)) for n in names}
        self.cut: set[tuple[str, str]] = set()  # (sender, receiver) pairs whose heartbeats are lost
        for node in self.nodes.values():
            self.apply(node, node.tracker.form())

    def apply(self, node: Node, change: MembershipChange | None) -> None:
        if change is None:
            return
        quorate = node.quorum.evaluate(node.tracker.total_votes, None, 0).quorate
        node.views.append((self.now, node.tracker.quorum_verdict(quorate, change, self.now), quorate))

    def beat(self, node: Node) -> None:
        t = node.tracker
        node.seq += 1
        hb = Heartbeat(t.node, t.incarnation, t.ring_id, node.seq, hears=t.hears, candidate=t.candidate)
        for other in self.nodes.values():
            if other is not node and (t.node, other.tracker.node) not in self.cut:
                other.inbox.append(hb)

    def receive(self, node: Node) -> None:
        while node.inbox:
            self.apply(node, node.tracker.observe(node.inbox.popleft(), self.now))

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds / STEP)):
            self.now += STEP
            beating = round(self.now / STEP) % round(INTERVAL / STEP) == 0
            for node in self.nodes.values():
                if node.paused:
                    continue
                if beating:
                    self.beat(node)
                    if node.policy:
                        self.apply(node, node.tracker.policy_alive(node.policy, self.now))
            for node in self.nodes.values():
                if not node.paused:
                    self.receive(node)
                    self.apply(node, node.tracker.tick(self.now))

    def resume(self, name: str) -> None:
        """Un-pause, in the worst order: a heartbeat from before (stale: it lists everyone) goes out first."""
        node = self.nodes[name]
        node.paused = False
        self.beat(node)

    def dcs(self, names: list[str] | None = None) -> set[str]:
        return {self.nodes[n].view.dc for n in names or self.nodes}

    def dcs_since(self, at: float, names: list[str]) -> set[str]:
        """Every DC any of ``names`` published from ``at`` on."""
        return {change.dc for n in names for when, change, _q in self.nodes[n].views if when >= at}


def agreed(cluster: Cluster, names: list[str] | None = None) -> str:
    """The DC every node (of ``names``) names, over the same members."""
    names = names or list(cluster.nodes)
    assert len({cluster.nodes[n].view.members for n in names}) == 1
    (dc,) = cluster.dcs(names)
    return dc


def test_a_starting_cluster_agrees_on_one_dc():
    c = Cluster(["n1", "n2", "n3"])
    c.run(2.0)
    assert c.nodes["n1"].view.members == ("n1", "n2", "n3") and all(n.quorate for n in c.nodes.values())
    assert agreed(c) in c.nodes


def test_no_policy_no_candidate():
    c = Cluster(["n1", "n2"])
    for node in c.nodes.values():
        node.policy = None
    c.run(2.0)
    assert agreed(c) == "" and c.nodes["n1"].tracker.candidate == 0


def test_the_incumbent_keeps_the_role_when_a_node_joins():
    c = Cluster(["n1", "n2", "n3"], QuorumSettings(expected_votes=3))
    c.nodes["n3"].paused = True  # not started yet
    c.run(2.0)
    dc = agreed(c, ["n1", "n2"])
    joined_at = c.now
    c.nodes["n3"].paused = False
    c.run(2.0)
    assert agreed(c) == dc and c.nodes["n3"].view.members == ("n1", "n2", "n3")
    assert c.dcs_since(joined_at, ["n1", "n2"]) == {dc}  # not even for a heartbeat


def test_a_restarted_node_does_not_take_the_role_for_a_moment():
    """A restarted node's policy is up before it hears its peers: its low ring id must not make it DC."""
    c = Cluster(["n1", "n2", "n3"])
    c.run(2.0)
    dc = agreed(c)
    other = next(n for n in sorted(c.nodes) if n != dc)
    c.nodes[other].paused = True
    c.run(2.0)
    fresh = Node(MembershipTracker(other, f"{other}-2", TOKEN), QuorumCalculator(QuorumSettings(expected_votes=3)))
    c.nodes[other] = fresh
    c.apply(fresh, fresh.tracker.form())
    c.run(0.2)  # its policy is alive before it heard anyone
    restarted_at = c.now
    c.run(2.0)
    assert agreed(c) == dc
    assert c.dcs_since(restarted_at, [n for n in c.nodes if n != other]) == {dc}


def test_a_node_whose_policy_dies_stops_being_a_candidate_after_the_token_timeout():
    c = Cluster(["n1", "n2", "n3"])
    c.run(2.0)
    dc = agreed(c)
    c.nodes[dc].policy = None
    c.run(TOKEN * 0.5)
    assert agreed(c) == dc
    c.run(TOKEN + 0.5)
    assert agreed(c) not in ("", dc)


def test_a_restarted_policy_does_not_take_the_role_back():
    c = Cluster(["n1", "n2", "n3"])
    c.run(2.0)
    dc = agreed(c)
    c.nodes[dc].policy = "p2"
    c.run(1.0)
    assert agreed(c) not in ("", dc)


def pause_the_dc(cluster: Cluster) -> tuple[str, float]:
    """Pause the DC until the others elected another one, then resume it; returns it and when it resumed."""
    cluster.run(2.0)
    dc = agreed(cluster)
    cluster.nodes[dc].paused = True
    cluster.run(3.0)
    successor = agreed(cluster, [n for n in cluster.nodes if n != dc])
    assert successor not in ("", dc)
    resumed_at = cluster.now
    cluster.resume(dc)
    cluster.run(3.0)
    return dc, resumed_at


def test_a_paused_dc_learns_it_was_dropped_and_does_not_take_the_role_back():
    c = Cluster(["n1", "n2", "n3"])
    dc, resumed_at = pause_the_dc(c)
    paused = c.nodes[dc]
    after = [(change.members, quorate) for when, change, quorate in paused.views if when >= resumed_at]
    assert ((dc,), False) in after  # it saw the others had dropped it: alone, inquorate
    rest = [n for n in c.nodes if n != dc]
    assert dc not in c.dcs_since(resumed_at, rest)  # never DC again in the others' eyes
    assert agreed(c) != dc and paused.view.members == ("n1", "n2", "n3")


def test_a_paused_dc_of_a_two_node_cluster_does_not_take_the_role_back():
    c = Cluster(["n1", "n2"], QuorumSettings(expected_votes=2, two_node=True))
    dc, resumed_at = pause_the_dc(c)
    (other,) = [n for n in c.nodes if n != dc]
    assert dc not in c.dcs_since(resumed_at, [other])
    assert agreed(c) == other


def test_a_node_cut_off_both_ways_rejoins_without_taking_the_role_back():
    c = Cluster(["n1", "n2", "n3"])
    c.run(2.0)
    dc = agreed(c)
    rest = [n for n in c.nodes if n != dc]
    c.cut = {(a, b) for a in c.nodes for b in c.nodes if dc in (a, b) and a != b}
    c.run(3.0)
    assert c.nodes[dc].view.members == (dc,) and not c.nodes[dc].quorate
    healed_at = c.now
    c.cut = set()
    c.run(3.0)
    assert dc not in c.dcs_since(healed_at, rest) and agreed(c) != dc


def test_a_node_whose_outbound_is_cut_drops_its_peers_from_their_heartbeats():
    c = Cluster(["n1", "n2", "n3"])
    c.run(2.0)
    c.cut = {("n3", "n1"), ("n3", "n2")}  # n3 still hears them; they no longer hear n3
    c.run(TOKEN + 1.0)
    n3 = c.nodes["n3"]
    assert n3.view.members == ("n3",) and not n3.quorate and n3.tracker.hears == ("n1", "n2")
    assert c.nodes["n1"].view.members == ("n1", "n2")


@pytest.mark.parametrize("names", [["n1", "n2"], ["n1", "n2", "n3", "n4", "n5"]])
def test_views_settle_and_every_dc_runs_a_policy(names):
    c = Cluster(names)
    c.nodes[names[0]].policy = None
    c.run(3.0)
    assert agreed(c) in names[1:]
